"""`localbroker --schema-registry-user USER:PASSWORD`: the registry answers only requests with
those HTTP basic credentials, as Confluent's registry does with authentication.method=BASIC,
and Confluent's client, the workbench's client and `kwb consume` log in to it."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from brokers import BrokerProcess
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext
from waiting import TIMEOUT

from tui.kafka.schema_registry.client import RegistryClient, RegistryError
from tui.kafka.schema_registry.settings import registry_settings

USER = "alice"
PASSWORD = "s3cret-pa55"
WRONG = "not-the-pa55word"
ITEM = {"type": "record", "name": "Item", "fields": [{"name": "sku", "type": "string"}]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(
        tmp_path_factory.mktemp("registry-auth") / "data", registry_user=f"{USER}:{PASSWORD}"
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


def confluent(served: BrokerProcess, password: str | None) -> SchemaRegistryClient:
    config = {"url": served.registry_url}
    if password is not None:
        config["basic.auth.user.info"] = f"{USER}:{password}"
    return SchemaRegistryClient(config)


def registered(served: BrokerProcess, subject: str) -> int:
    return confluent(served, PASSWORD).register_schema(subject, Schema(json.dumps(ITEM), "AVRO"))


def test_confluents_client_with_the_credentials_registers_and_reads(
    served: BrokerProcess,
) -> None:
    schema_id = registered(served, "items-value")
    client = confluent(served, PASSWORD)
    assert json.loads(client.get_schema(schema_id).schema_str)["name"] == "Item"
    assert "items-value" in client.get_subjects()


@pytest.mark.parametrize("password", [None, WRONG], ids=["no-credentials", "wrong-password"])
def test_confluents_client_without_the_credentials_gets_401(
    served: BrokerProcess, password: str | None
) -> None:
    with pytest.raises(SchemaRegistryError) as refused:
        confluent(served, password).get_subjects()
    assert refused.value.http_status_code == 401
    assert refused.value.error_code == 401


def test_refusal_is_jettys_401_with_confluents_body(served: BrokerProcess) -> None:
    """Also on a path no route serves: authentication comes before routing, as in Jetty."""
    wrong = base64.b64encode(f"{USER}:{WRONG}".encode()).decode()
    wrong_password = {"Authorization": f"Basic {wrong}"}
    for path, headers in (("/subjects", {}), ("/no/such/path", wrong_password)):
        request = urllib.request.Request(served.registry_url + path, headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=TIMEOUT)
        assert refused.value.code == 401
        assert refused.value.headers["WWW-Authenticate"] == 'basic realm="SchemaRegistry"'
        assert json.loads(refused.value.read()) == {"error_code": 401, "message": "Unauthorized"}


async def workbench_read(served: BrokerProcess, password: str, schema_id: int) -> Any:
    settings = registry_settings(
        {
            "schema.registry.url": served.registry_url,
            "basic.auth.credentials.source": "USER_INFO",
            "basic.auth.user.info": f"{USER}:{password}",
        }
    )
    assert settings is not None
    async with RegistryClient(settings) as client:
        return await client.schema(schema_id)


async def test_workbench_client_logs_in_with_user_info(served: BrokerProcess) -> None:
    schema_id = registered(served, "workbench-value")
    schema = await workbench_read(served, PASSWORD, schema_id)
    assert json.loads(schema.text)["name"] == "Item"
    with pytest.raises(RegistryError) as refused:
        await workbench_read(served, WRONG, schema_id)
    assert refused.value.status == 401
    assert WRONG not in str(refused.value) and PASSWORD not in str(refused.value)


def test_kwb_consume_decodes_with_user_info(served: BrokerProcess, kwb: Any) -> None:
    serialize = AvroSerializer(confluent(served, PASSWORD), json.dumps(ITEM))
    value = serialize({"sku": "A-1"}, SerializationContext("baskets", MessageField.VALUE))
    producer = Producer({"bootstrap.servers": served.bootstrap})
    producer.produce("baskets", value)
    assert producer.flush(TIMEOUT) == 0, "record left unsent"
    run = kwb(
        "consume", "--bootstrap-server", served.bootstrap, "--topic", "baskets",
        "--from-beginning", "--max-messages", "1", "--schema-registry", served.registry_url,
        "--property", "basic.auth.credentials.source=USER_INFO",
        "--property", f"basic.auth.user.info={USER}:{PASSWORD}",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == '{"sku":"A-1"}\n'
