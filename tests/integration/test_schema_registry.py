"""The built-in Schema Registry driven by confluent-kafka's SchemaRegistryClient and serializers.

One `localbroker --schema-registry 0` process serves the module (each test uses its own
subjects and topics); the restart test starts its own. What is checked is Confluent's
behaviour as its clients see it: ids, versions, soft and hard deletes, configs, modes,
references, error codes and statuses, compatibility levels, and the `_schemas` topic.
"""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from brokers import BrokerProcess, localbroker_command, running_broker
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from confluent_kafka.schema_registry import (
    AsyncSchemaRegistryClient,
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from reference_kafka import ReferenceKafka
from waiting import wait_until

from localbroker.schema_registry.errors import RegistryError
from localbroker.schema_registry.service import SchemaRegistry

pytestmark = pytest.mark.timeout(120)


def record(name: str, *fields: dict[str, object], namespace: str = "") -> str:
    document: dict[str, object] = {"type": "record", "name": name, "fields": list(fields)}
    if namespace:
        document["namespace"] = namespace
    return json.dumps(document)


def field(name: str, kind: object = "int", **extra: object) -> dict[str, object]:
    return {"name": name, "type": kind, **extra}


def avro(text: str, references: list[SchemaReference] | None = None) -> Schema:
    return Schema(text, "AVRO", references or [])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(tmp_path_factory.mktemp("registry") / "data", schema_registry=True)
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


@pytest.fixture
def client(served: BrokerProcess) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": served.registry_url})


def call(
    url: str, method: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, object]:
    """A raw request; the status and the JSON body, whatever the status."""
    headers = {"Content-Type": content_type} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def refused(code: int, action: object) -> SchemaRegistryError:
    with pytest.raises(SchemaRegistryError) as caught:
        action()  # type: ignore[operator]
    assert caught.value.error_code == code, caught.value
    return caught.value


USER = record("User", field("name", "string"), field("age"))


def through_the_broker(served: BrokerProcess, topic: str, bodies: list[bytes]) -> list[bytes]:
    """Produce `bodies` to a new topic and consume them back, in order."""
    producer = Producer({"bootstrap.servers": served.bootstrap})
    for body in bodies:
        producer.produce(topic, body)
    assert producer.flush(10) == 0
    del producer  # closed now, not when collected after the module's broker has stopped
    consumer = Consumer(
        {
            "bootstrap.servers": served.bootstrap,
            "group.id": unique("readers"),
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    read: list[bytes] = []
    try:

        def all_read() -> bool:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                read.append(message.value())
            return len(read) == len(bodies)

        wait_until(all_read, f"{len(bodies)} records consumed from {topic}")
    finally:
        consumer.close()
    return read


def order_message_class() -> type[Message]:
    """A Protobuf message class built at test time from descriptors, as confluent-kafka's own
    tests build theirs: `package shop; import "<address>.proto"; message Order { string id = 1;
    repeated Line lines = 2; Address ship_to = 3; message Line { string sku = 1; int32
    quantity = 2; } }`, with `message Address { string city = 1; }` in the imported file, which
    the serializer registers as a reference."""
    kind = descriptor_pb2.FieldDescriptorProto
    address_file = descriptor_pb2.FileDescriptorProto(
        name=f"{unique('address')}.proto", package="shop", syntax="proto3"
    )
    address_file.message_type.add(name="Address").field.add(
        name="city", number=1, type=kind.TYPE_STRING
    )
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{unique('order')}.proto", package="shop", syntax="proto3"
    )
    file.dependency.append(address_file.name)
    order = file.message_type.add(name="Order")
    order.field.add(name="id", number=1, type=kind.TYPE_STRING)
    order.field.add(
        name="lines",
        number=2,
        type=kind.TYPE_MESSAGE,
        label=kind.LABEL_REPEATED,
        type_name=".shop.Order.Line",
    )
    order.field.add(name="ship_to", number=3, type=kind.TYPE_MESSAGE, type_name=".shop.Address")
    line = order.nested_type.add(name="Line")
    line.field.add(name="sku", number=1, type=kind.TYPE_STRING)
    line.field.add(name="quantity", number=2, type=kind.TYPE_INT32)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(address_file)
    pool.Add(file)
    return GetMessageClass(pool.FindMessageTypeByName("shop.Order"))


def test_protobuf_records_round_trip_through_the_broker(
    served: BrokerProcess, client: SchemaRegistryClient
) -> None:
    topic, order_class = unique("orders"), order_message_class()
    serializer = ProtobufSerializer(order_class, client, {"use.deprecated.format": False})
    context = SerializationContext(topic, MessageField.VALUE)
    orders = [
        order_class(id=f"o{n}", lines=[{"sku": "tea", "quantity": n}], ship_to={"city": "Oslo"})
        for n in range(3)
    ]
    bodies = through_the_broker(served, topic, [serializer(order, context) for order in orders])
    deserializer = ProtobufDeserializer(order_class, {"use.deprecated.format": False})
    assert [deserializer(body, context) for body in bodies] == orders
    reader = SchemaRegistryClient({"url": served.registry_url})
    stored = reader.get_schema(int.from_bytes(bodies[0][1:5], "big"))
    assert stored.schema_type == "PROTOBUF"
    assert "message Order" in stored.schema_str and "message Line" in stored.schema_str
    (reference,) = stored.references
    imported = reader.get_latest_version(reference.subject)
    assert reference.name == reference.subject and "message Address" in imported.schema.schema_str


ORDER_JSON = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {"id": {"type": "string"}, "total": {"type": "number"}},
        "required": ["id"],
        "additionalProperties": False,
    }
)


def test_json_records_round_trip_through_the_broker(
    served: BrokerProcess, client: SchemaRegistryClient
) -> None:
    topic = unique("payments")
    serializer = JSONSerializer(ORDER_JSON, client)
    context = SerializationContext(topic, MessageField.VALUE)
    values = [{"id": f"p{n}", "total": n * 1.5} for n in range(3)]
    bodies = through_the_broker(served, topic, [serializer(value, context) for value in values])
    # No schema of its own: the deserializer fetches the one each record's id names.
    reader = SchemaRegistryClient({"url": served.registry_url})
    deserializer = JSONDeserializer(None, schema_registry_client=reader)
    assert [deserializer(body, context) for body in bodies] == values
    assert client.get_latest_version(f"{topic}-value").schema.schema_type == "JSON"
    refused(
        42201,
        lambda: client.register_schema(unique("bad-json"), Schema('{"type": 12}', "JSON")),
    )


def test_a_json_schema_refers_to_another_subject(client: SchemaRegistryClient) -> None:
    """The `$ref` names the reference; the serializer validates with the referenced schema
    the registry hands it, and a reader resolves it the same way."""
    address_subject, topic = unique("address-json"), unique("shipments")
    address = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    client.register_schema(address_subject, Schema(json.dumps(address), "JSON"))
    order = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"id": {"type": "string"}, "ship_to": {"$ref": "address.json"}},
    }
    references = [SchemaReference("address.json", address_subject, 1)]
    client.register_schema(f"{topic}-value", Schema(json.dumps(order), "JSON", references))
    serializer = JSONSerializer(
        Schema(json.dumps(order), "JSON", references),
        client,
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    context = SerializationContext(topic, MessageField.VALUE)
    value = {"id": "s1", "ship_to": {"city": "Oslo"}}
    reader = SchemaRegistryClient({"url": client._rest_client.base_urls[0]})
    deserializer = JSONDeserializer(None, schema_registry_client=reader)
    assert deserializer(serializer(value, context), context) == value
    with pytest.raises(SerializationError, match="'city' is a required property"):
        serializer({"id": "s2", "ship_to": {"town": "Oslo"}}, context)


def test_avro_records_round_trip_through_the_broker(
    served: BrokerProcess, client: SchemaRegistryClient
) -> None:
    topic = unique("users")
    serializer = AvroSerializer(client, USER)
    context = SerializationContext(topic, MessageField.VALUE)
    values = [{"name": f"user {n}", "age": n} for n in range(5)]
    bodies = through_the_broker(served, topic, [serializer(value, context) for value in values])
    # The reading side has its own client, as another application would: it must fetch the
    # schema by the id in each record.
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": served.registry_url}))
    assert [deserializer(body, context) for body in bodies] == values
    registered = client.get_latest_version(f"{topic}-value")
    assert registered.version == 1
    assert json.loads(registered.schema.schema_str)["name"] == "User"


def test_register_lookup_and_versions(client: SchemaRegistryClient) -> None:
    subject, other = unique("orders-value"), unique("copies-value")
    first = avro(record("Order", field("id")))
    second = avro(record("Order", field("id"), field("note", "string", default="")))
    first_id = client.register_schema(subject, first)
    assert client.register_schema(subject, first) == first_id
    second_id = client.register_schema(subject, second)
    assert second_id > first_id
    assert client.register_schema(other, first) == first_id
    assert client.get_versions(subject) == [1, 2]
    found = client.lookup_schema(subject, first)
    assert (found.schema_id, found.version, found.subject) == (first_id, 1, subject)
    refused(40403, lambda: client.lookup_schema(subject, avro(record("Nope", field("x")))))
    refused(40401, lambda: client.lookup_schema(unique("none"), first))
    latest = client.get_latest_version(subject)
    assert (latest.version, latest.schema_id) == (2, second_id)
    assert client.get_version(subject, 1).schema_id == first_id
    assert json.loads(client.get_schema(first_id).schema_str) == json.loads(first.schema_str)
    assert sorted(client.get_subjects_by_schema_id(first_id)) == sorted([subject, other])
    assert subject in client.get_subjects()
    url = client._rest_client.base_urls[0]
    status, versions = call(f"{url}/schemas/ids/{first_id}/versions", "GET")
    assert status == 200 and {"subject": other, "version": 1} in versions  # type: ignore[operator]
    assert call(f"{url}/subjects?subjectPrefix={subject}", "GET") == (200, [subject])
    status, by_id = call(f"{url}/schemas/ids/{first_id}?fetchMaxId=true", "GET")
    assert status == 200 and by_id["maxId"] >= second_id  # type: ignore[index,operator]
    status, by_id = call(f"{url}/schemas/ids/{second_id}?subject={other}", "GET")
    assert (status, by_id["error_code"]) == (404, 40403)  # type: ignore[index]
    assert sorted(client.get_schema_types()) == ["AVRO", "JSON", "PROTOBUF"]


def test_normalize_makes_equivalent_spellings_one_schema(client: SchemaRegistryClient) -> None:
    """Without `normalize` a schema is its canonical text; with it, its normalized text
    (for Protobuf, fields in number order), so two spellings share an id."""
    first, second = unique("plain-value"), unique("normalized-value")
    message = 'syntax = "proto3";\npackage n;\nmessage M {\n  %s\n  %s\n}\n'
    in_order = Schema(message % ("string a = 1;", "int32 b = 2;"), "PROTOBUF")
    swapped = Schema(message % ("int32 b = 2;", "string a = 1;"), "PROTOBUF")
    in_order_id = client.register_schema(first, in_order)
    assert client.register_schema(first, swapped) != in_order_id
    assert client.register_schema(second, swapped, normalize_schemas=True) == in_order_id
    assert client.lookup_schema(first, swapped).version == 2
    url = client._rest_client.base_urls[0]  # the client caches lookups whatever `normalize`
    body = json.dumps({"schema": swapped.schema_str, "schemaType": "PROTOBUF"}).encode()
    status, found = call(f"{url}/subjects/{first}?normalize=true", "POST", body)
    assert (status, found["version"]) == (200, 1)  # type: ignore[index]


def test_concurrent_registrations_get_one_version_each(client: SchemaRegistryClient) -> None:
    """Writes are planned one at a time, each against the state the previous one left."""
    subject = unique("concurrent-value")
    client.set_compatibility(subject, "NONE")
    schemas = [avro(record(f"R{n}", field("a"))) for n in range(8)]
    with ThreadPoolExecutor(len(schemas)) as pool:
        ids = list(pool.map(lambda schema: client.register_schema(subject, schema), schemas))
    assert len(set(ids)) == len(schemas)
    assert client.get_versions(subject) == list(range(1, len(schemas) + 1))


def test_soft_then_hard_deletes(client: SchemaRegistryClient) -> None:
    subject = unique("deletes-value")
    client.register_schema(subject, avro(record("D", field("a"))))
    client.register_schema(subject, avro(record("D", field("a"), field("b", default=0))))
    refused(40407, lambda: client.delete_version(subject, 1, permanent=True))
    assert client.delete_version(subject, 1) == 1
    refused(40406, lambda: client.delete_version(subject, 1))
    assert client.get_versions(subject) == [2]
    url = client._rest_client.base_urls[0]
    assert call(f"{url}/subjects/{subject}/versions?deleted=true", "GET") == (200, [1, 2])
    assert client.delete_version(subject, 1, permanent=True) == 1
    assert call(f"{url}/subjects/{subject}/versions?deleted=true", "GET") == (200, [2])
    refused(40405, lambda: client.delete_subject(subject, permanent=True))
    assert client.delete_subject(subject) == [2]
    assert subject not in client.get_subjects()
    refused(40404, lambda: client.delete_subject(subject))
    status, listed = call(f"{url}/subjects?deleted=true", "GET")
    assert status == 200 and subject in listed  # type: ignore[operator]
    assert client.delete_subject(subject, permanent=True) == [2]
    refused(40401, lambda: client.delete_subject(subject, permanent=True))
    refused(40401, lambda: client.get_versions(subject))


def test_config_levels_per_subject_and_global(client: SchemaRegistryClient) -> None:
    subject = unique("configs-value")
    url = client._rest_client.base_urls[0]
    assert client.get_compatibility() == "BACKWARD"
    status, body = call(f"{url}/config/{subject}", "GET")
    assert (status, body["error_code"]) == (404, 40408)  # type: ignore[index]
    assert call(f"{url}/config/{subject}?defaultToGlobal=true", "GET") == (
        200,
        {"compatibilityLevel": "BACKWARD"},
    )
    assert client.set_compatibility(subject, "FULL") == {"compatibility": "FULL"}
    assert client.get_compatibility(subject) == "FULL"
    refused(42203, lambda: client.set_compatibility(subject, "SIDEWAYS"))
    assert call(f"{url}/config/{subject}", "DELETE") == (200, {"compatibilityLevel": "FULL"})
    status, body = call(f"{url}/config/{subject}", "DELETE")
    assert (status, body["error_code"]) == (404, 40401)  # type: ignore[index]


def test_modes(client: SchemaRegistryClient) -> None:
    subject, imported = unique("modes-value"), unique("imported-value")
    client.register_schema(subject, avro(record("M", field("a"))))
    refused(40409, lambda: client.get_mode(subject))
    assert client.get_global_mode() == "READWRITE"
    assert client.update_mode(subject, "READONLY") == "READONLY"
    error = refused(42205, lambda: client.register_schema(subject, avro(record("M2", field("a")))))
    assert "read-only mode" in error.error_message
    refused(42205, lambda: client.delete_subject(subject))
    refused(42204, lambda: client.update_mode(subject, "SOMETIMES"))
    assert client.delete_mode(subject) == "READONLY"
    refused(42205, lambda: client.update_mode(subject, "IMPORT"))
    assert client.update_mode(imported, "IMPORT") == "IMPORT"
    url = client._rest_client.base_urls[0]
    text = record("Imported", field("a"))
    body = json.dumps({"schema": text, "id": 4242, "version": 7}).encode()
    assert call(f"{url}/subjects/{imported}/versions", "POST", body)[0] == 200
    refused(42205, lambda: client.register_schema(imported, avro(record("I2", field("a")))))
    assert client.update_mode(imported, "READWRITE") == "READWRITE"
    assert client.get_version(imported, 7).schema_id == 4242
    assert client.register_schema(unique("after-import"), avro(record("N", field("n")))) > 4242


def test_error_codes_for_bad_input(client: SchemaRegistryClient) -> None:
    subject = unique("errors-value")
    url = client._rest_client.base_urls[0]
    refused(42201, lambda: client.register_schema(subject, avro('{"type": "recor"}')))
    refused(42201, lambda: client.register_schema(subject, Schema('"int"', "YAML")))
    refused(40401, lambda: client.get_versions(unique("missing")))
    client.register_schema(subject, avro(record("E", field("a"))))
    refused(42202, lambda: client.get_version(subject, 0))
    refused(40402, lambda: client.get_version(subject, 5))
    status, body = call(f"{url}/subjects/{subject}/versions/two", "GET")
    assert (status, body["error_code"]) == (422, 42202)  # type: ignore[index]
    error = refused(
        40901, lambda: client.register_schema(subject, avro(record("E", field("a"), field("b"))))
    )
    assert error.http_status_code == 409
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in error.error_message
    assert "compatibility: 'BACKWARD'" in error.error_message
    status, body = call(f"{url}/subjects/{subject}/versions", "POST", b"{not json")
    assert (status, body["error_code"]) == (400, 400)  # type: ignore[index]
    junk = [
        b"",
        b"[]",
        b"42",
        b"null",
        b"\xff\xfe",
        b'{"schema": 5}',
        b'{"schema": "x", "references": [1]}',
        b'{"schema": "x", "references": [{"name": "a", "subject": "b", "version": "1"}]}',
        b'{"schema": "{\\"type\\": \\"record\\"}", "schemaType": 3}',
        b'{"schema": "[\\"int\\", \\"int\\"]", "id": "7"}',
        b'{"compatibility": 5, "mode": ["READWRITE"], "normalize": "yes"}',
        b'{"compatibility": "sideways", "mode": "sometimes"}',
    ]
    writes = [
        ("POST", f"/subjects/{subject}/versions"),
        ("POST", f"/subjects/{subject}"),
        ("POST", f"/compatibility/subjects/{subject}/versions/latest"),
        ("PUT", f"/config/{subject}"),
        ("PUT", "/mode/nobody"),
    ]
    for method, path in writes:
        for body_bytes in junk:
            status, body = call(f"{url}{path}", method, body_bytes)
            assert status < 500, (method, path, body_bytes, status, body)
            # Each body lacks a schema or misspells one; a config update may change nothing.
            assert status >= 400 or method == "PUT", (path, body_bytes, body)
            assert status == 200 or isinstance(body["error_code"], int), body  # type: ignore[index]
    status, body = call(f"{url}/subjects/{subject}/versions", "POST", b"{}", "text/plain")
    assert (status, body["error_code"]) == (415, 415)  # type: ignore[index]
    assert call(f"{url}/", "GET") == (200, {})
    status, metadata = call(f"{url}/v1/metadata/id", "GET")
    assert status == 200 and metadata["scope"]["clusters"]["kafka-cluster"]  # type: ignore[index]
    assert call(f"{url}/nowhere", "GET") == (
        404,
        {"error_code": 404, "message": "HTTP 404 Not Found"},
    )


def test_references_to_another_subjects_named_type(
    served: BrokerProcess, client: SchemaRegistryClient
) -> None:
    address_subject, topic = unique("address"), unique("people")
    address = record("Address", field("city", "string"), namespace="com.example")
    client.register_schema(address_subject, avro(address))
    person = record("Person", field("name", "string"), field("home", "com.example.Address"))
    references = [SchemaReference("com.example.Address", address_subject, 1)]
    person_id = client.register_schema(f"{topic}-value", avro(person, references))
    registered = client.get_latest_version(f"{topic}-value")
    assert [ref.subject for ref in registered.schema.references] == [address_subject]
    url = client._rest_client.base_urls[0]
    status, referrers = call(f"{url}/subjects/{address_subject}/versions/1/referencedby", "GET")
    assert (status, referrers) == (200, [person_id])
    refused(42206, lambda: client.delete_version(address_subject, 1))
    refused(42206, lambda: client.delete_subject(address_subject))
    serializer = AvroSerializer(
        client, None, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    context = SerializationContext(topic, MessageField.VALUE)
    value = {"name": "Ada", "home": {"city": "London"}}
    assert AvroDeserializer(client)(serializer(value, context), context) == value
    missing = [SchemaReference("com.example.Address", unique("nowhere"), 1)]
    refused(42201, lambda: client.register_schema(unique("broken"), avro(person, missing)))


V1 = record("C", field("a"))
V2 = record("C", field("a", default=0), field("b"))
CANDIDATES = {
    # candidate: compatible at NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD,
    # FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE (against v1 and v2 above)
    "only b": (record("C", field("b")), "TTFTFTF"),
    "adds c without default": (
        record("C", field("a", default=0), field("b"), field("c")),
        "TFFTTFF",
    ),
    "drops b": (record("C", field("a", default=0)), "TTTFFFF"),
}
LEVELS = [
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
]


def test_compatibility_levels_compose_over_three_versions(client: SchemaRegistryClient) -> None:
    """Each level is a direction (new reads old, old reads new, both) against the latest
    version or, transitively, all of them."""
    subject = unique("levels-value")
    client.set_compatibility(subject, "NONE")
    client.register_schema(subject, avro(V1))
    client.register_schema(subject, avro(V2))
    url = client._rest_client.base_urls[0]
    seen: dict[str, str] = {}
    for name, (candidate, _expected) in CANDIDATES.items():
        row = ""
        for level in LEVELS:
            client.set_compatibility(subject, level)
            row += "T" if client.test_compatibility_all_versions(subject, avro(candidate)) else "F"
        seen[name] = row
    assert seen == {name: expected for name, (_c, expected) in CANDIDATES.items()}
    client.set_compatibility(subject, "FORWARD")
    body = json.dumps({"schema": CANDIDATES["drops b"][0]}).encode()
    status, answer = call(
        f"{url}/compatibility/subjects/{subject}/versions/latest?verbose=true", "POST", body
    )
    assert status == 200 and answer["is_compatible"] is False  # type: ignore[index]
    assert any("FORWARD" in message for message in answer["messages"])  # type: ignore[index]
    refused(40901, lambda: client.register_schema(subject, avro(CANDIDATES["drops b"][0])))
    assert client.register_schema(subject, avro(CANDIDATES["adds c without default"][0])) > 0


def schemas_topic(bootstrap: str) -> list[tuple[dict[str, object], object]]:
    """Every record of `_schemas`, key and value as JSON (None for tombstones)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique("schemas-reader"),
            "enable.partition.eof": True,
        }
    )
    consumer.assign([TopicPartition("_schemas", 0, OFFSET_BEGINNING)])
    records: list[tuple[dict[str, object], object]] = []
    try:

        def at_end() -> bool:
            message = consumer.poll(0.5)
            if message is None:
                return False
            if message.error() is not None:
                return bool(records)
            value = message.value()
            records.append((json.loads(message.key()), json.loads(value) if value else None))
            return False

        wait_until(at_end, "the end of _schemas")
    finally:
        consumer.close()
    return records


def test_state_survives_a_restart_and_lives_in_the_compacted_topic(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "data", schema_registry=True).start()
    try:
        client = SchemaRegistryClient({"url": broker.registry_url})
        kept = client.register_schema("kept-value", avro(record("K", field("a"))))
        client.register_schema("gone-value", avro(record("G", field("a"))))
        client.delete_subject("gone-value")
        client.set_compatibility("kept-value", "FULL_TRANSITIVE")
        assert broker.terminate() == 0
        broker = BrokerProcess(tmp_path / "data", schema_registry=True).start()
        client = SchemaRegistryClient({"url": broker.registry_url})
        assert client.get_subjects() == ["kept-value"]
        assert client.get_latest_version("kept-value").schema_id == kept
        assert client.get_compatibility("kept-value") == "FULL_TRANSITIVE"
        assert client.register_schema("new-value", avro(record("N", field("a")))) == kept + 2
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        resource = ConfigResource(ConfigResource.Type.TOPIC, "_schemas")
        configs = admin.describe_configs([resource])[resource].result(10)
        assert configs["cleanup.policy"].value == "compact"
        keys = [key for key, _value in schemas_topic(broker.bootstrap)]
        assert {"keytype": "SCHEMA", "subject": "kept-value", "version": 1, "magic": 1} in keys
        assert {"keytype": "CONFIG", "subject": "kept-value", "magic": 0} in keys
        assert {"keytype": "DELETE_SUBJECT", "subject": "gone-value", "magic": 0} in keys
    finally:
        broker.kill()


async def test_the_registry_keeps_its_state_on_apache_kafka(
    reference_kafka: ReferenceKafka,
) -> None:
    """Confluent's store design works on the reference broker too: `_schemas` created
    compacted there, and a second registry reading back what the first wrote."""
    subject = unique("on-kafka-value")
    registry = await SchemaRegistry(reference_kafka.bootstrap).start()
    try:
        client = AsyncSchemaRegistryClient({"url": registry.url})
        schema_id = await client.register_schema(subject, avro(record("K", field("a"))))
        await client.set_compatibility(subject, "NONE")
    finally:
        await registry.stop()
    again = await SchemaRegistry(reference_kafka.bootstrap).start()
    try:
        client = AsyncSchemaRegistryClient({"url": again.url})
        assert (await client.get_latest_version(subject)).schema_id == schema_id
        assert await client.get_compatibility(subject) == "NONE"
    finally:
        await again.stop()
    admin = AdminClient({"bootstrap.servers": reference_kafka.bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, "_schemas")
    configs = admin.describe_configs([resource])[resource].result(10)
    assert configs["cleanup.policy"].value == "compact"


def test_a_registry_that_cannot_start_ends_the_broker_with_its_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        command = localbroker_command(tmp_path / "data", 0)
        command += ["--schema-registry", str(taken.getsockname()[1])]
        ended = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert ended.returncode == 1
    assert ended.stderr.strip().endswith("address already in use"), ended.stderr
    assert "the schema registry cannot start" in ended.stderr
    assert "Traceback" not in ended.stderr


@pytest.mark.parametrize(
    ("partitions", "policy", "refusal"),
    [
        (1, "delete", "Expected cleanup.policy to be 'compact' but it is delete"),
        (2, "compact", "should have only 1 partition but has 2"),
    ],
)
async def test_a_schemas_topic_that_could_lose_schemas_is_refused(
    tmp_path: Path, partitions: int, policy: str, refusal: str
) -> None:
    """As Confluent's KafkaStore refuses to start: retention would delete schemas, and more
    than one partition has no single order of writes."""
    with running_broker(tmp_path / "data") as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        topic = NewTopic("_schemas", partitions, 1, config={"cleanup.policy": policy})
        admin.create_topics([topic])["_schemas"].result(10)
        del admin  # closed while the broker runs
        with pytest.raises(RegistryError) as refused:
            await SchemaRegistry(broker.bootstrap).start()
        assert refusal in refused.value.message
