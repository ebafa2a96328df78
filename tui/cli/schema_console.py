"""`kwb consume` and `kwb produce` with a Schema Registry, as Confluent's console tools do it.

kafka-avro-console-consumer is kafka-console-consumer with Confluent's AvroMessageFormatter
(SchemaMessageFormatter): keys and values decoded and printed as compact JSON, each schema
id after `schema.id.separator` with `print.schema.ids=true`. kafka-avro-console-producer
is kafka-console-producer with AvroMessageReader (SchemaMessageReader): each line's key and
value are JSON, encoded with `key.schema`/`value.schema` (or `.id`, `.file`) registered under
the topic's subjects. The same names work here: `--formatter io.confluent.kafka.formatter.
AvroMessageFormatter --property schema.registry.url=URL`, or kwb's `--schema-registry URL`.
Avro keys and values are in Avro's JSON encoding both ways, as Confluent's tools have them
(Java's JsonEncoder/JsonDecoder): a union's value wrapped as `{"string": "x"}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aiokafka import ConsumerRecord

from localbroker.public import InvalidSchema, SchemaType

from ..kafka.connection import SettingsError
from ..kafka.outgoing import OutgoingRecord
from ..kafka.schema_registry.client import RegisteredSchema, RegistryClient, RegistryError
from ..kafka.schema_registry.encoding import (
    EncodingError,
    SchemaEncoder,
    encoder_by_id,
    encoder_for,
    subject_for,
)
from ..kafka.schema_registry.reader import SchemaReader
from ..kafka.schema_registry.settings import RegistrySettings, registry_settings
from ..kafka.schema_registry.wire import Decoded, schema_id_of
from .common import UsageError
from .line_reader import LineMessageReader, ReaderError
from .message_formatter import DefaultMessageFormatter, FormatError

_PACKAGE = "io.confluent.kafka.formatter."
FORMATTERS = {
    _PACKAGE + "AvroMessageFormatter": SchemaType.AVRO,
    _PACKAGE + "protobuf.ProtobufMessageFormatter": SchemaType.PROTOBUF,
    _PACKAGE + "json.JsonSchemaMessageFormatter": SchemaType.JSON,
}
READERS = {
    _PACKAGE + "AvroMessageReader": SchemaType.AVRO,
    _PACKAGE + "protobuf.ProtobufMessageReader": SchemaType.PROTOBUF,
    _PACKAGE + "json.JsonSchemaMessageReader": SchemaType.JSON,
}


def settings_from(url: str | None, props: Mapping[str, str]) -> RegistrySettings:
    """The registry `--schema-registry` or `schema.registry.url` names, with the basic-auth
    properties; UsageError when they cannot work or name none."""
    try:
        settings = registry_settings(props, url)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    if settings is None:
        raise UsageError("Missing schema registry url! (--schema-registry URL)")
    return settings


# -- reading -------------------------------------------------------------------------------


class SchemaMessageFormatter(DefaultMessageFormatter):
    """A port of Confluent's SchemaMessageFormatter: timestamp, partition, offset, headers,
    key and value, each followed by key.separator except the value; the key and value as
    JSON through the registry, each with its schema id after schema.id.separator when
    print.schema.ids=true (the key's only when no key.deserializer decodes it)."""

    def __init__(self, props: Mapping[str, str], reader: SchemaReader) -> None:
        super().__init__(props)
        self.reader = reader
        print_ids = props.get("print.schema.ids", "false").strip().lower() == "true"
        self.print_value_id = print_ids
        self.print_key_id = print_ids and self.key_deserializer is None
        self.id_separator = props.get("schema.id.separator", "\t").encode()

    def _decoded(self, data: bytes, is_key: bool) -> bytes:
        what = "key" if is_key else "value"
        schema_id = schema_id_of(data)
        if schema_id is None:
            raise FormatError(f"Error deserializing {what}: Unknown magic byte!")
        reading = self.reader.decoder.decode(data)
        if reading is None:
            why = self.reader.decoder.unreachable or "not fetched"
            raise FormatError(f"Error retrieving schema for id {schema_id}: {why}")
        if not isinstance(reading, Decoded):
            raise FormatError(f"Error deserializing {what} with schema id {schema_id}: "
                              f"{reading.reason}")  # fmt: skip
        return reading.text.encode()

    def _id(self, data: bytes | None, null: bytes) -> bytes:
        schema_id = None if data is None else schema_id_of(data)
        return null if schema_id is None else str(schema_id).encode()

    def _schema_headers(self, record: ConsumerRecord[bytes, bytes]) -> bytes:
        """Confluent prints a header's value through headers.deserializer, and null.literal
        without one."""
        if not record.headers:
            return b"NO_HEADERS"
        convert = self.headers_deserializer
        return self.headers_separator.join(
            key.encode()
            + b":"
            + (self.null_literal if convert is None or value is None else convert(value))
            for key, value in record.headers
        )

    def format(self, record: ConsumerRecord[bytes, bytes]) -> bytes:
        columns = self._place_columns(record)
        if self.print_headers:
            columns.append(self._schema_headers(record))
        if self.print_key:
            key = record.key
            if key is None:
                shown = self.null_literal
            elif self.key_deserializer is not None:
                shown = self.key_deserializer(key)
            else:
                shown = self._decoded(key, is_key=True)
            if self.print_key_id:
                shown += self.id_separator + self._id(key, self.null_literal)
            columns.append(shown)
        value = record.value
        line = self.null_literal if value is None else self._decoded(value, is_key=False)
        if self.print_value_id:
            line += self.id_separator + self._id(value, b"null")
        return (
            b"".join(column + self.key_separator for column in columns)
            + line
            + (self.line_separator)
        )


# -- writing -------------------------------------------------------------------------------


def _flag(props: Mapping[str, str], name: str, default: bool) -> bool:
    value = props.get(name)
    return default if value is None else value.strip().lower() == "true"


def _schema_text(props: Mapping[str, str], side: str) -> str:
    if f"{side}.schema" in props:
        return props[f"{side}.schema"]
    if f"{side}.schema.file" in props:
        path = Path(props[f"{side}.schema.file"])
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            raise UsageError(f"Error reading schema from {path}") from None
    raise UsageError(
        f"Must provide the {side} schema in either {side}.schema, {side}.schema.id, or"
        f" {side}.schema.file"
    )


async def _encoder(
    client: RegistryClient, props: Mapping[str, str], topic: str, side: str, kind: SchemaType
) -> SchemaEncoder:
    """Confluent's SchemaMessageReader.getSchema, then the serializer's id lookup."""
    try:
        if f"{side}.schema.id" in props:
            try:
                schema_id = int(props[f"{side}.schema.id"])
            except ValueError:
                raise UsageError(f"Error parsing {side}.schema.id as int") from None
            return await encoder_by_id(client, schema_id)
        schema = RegisteredSchema(0, kind, _schema_text(props, side))
        return await encoder_for(
            client,
            subject_for(topic, side == "key"),
            schema,
            auto_register=_flag(
                props, "auto.register", _flag(props, "auto.register.schemas", True)
            ),
            use_latest=_flag(props, "use.latest.version", False),
            normalize=_flag(props, "normalize.schemas", False),
        )
    except InvalidSchema as exc:
        raise UsageError(f"Invalid {side} schema: {exc}") from None
    except RegistryError as exc:
        code = "" if exc.error_code is None else f"; error code: {exc.error_code}"
        raise UsageError(f"Error registering {side} schema: {exc.message}{code}") from None


class SchemaMessageReader:
    """A port of Confluent's SchemaMessageReader: lines parsed as LineMessageReader parses
    them (parse.key, key.separator, headers, null.marker), the key and value read as JSON
    and encoded with their schemas."""

    def __init__(self, lines: LineMessageReader, value: SchemaEncoder, key: SchemaEncoder | None):
        self.lines = lines
        self.value = value
        self.key = key

    @classmethod
    async def open(
        cls,
        client: RegistryClient,
        lines: LineMessageReader,
        props: Mapping[str, str],
        topic: str,
        kind: SchemaType,
    ) -> SchemaMessageReader:
        """Find (or register) the schemas before the first line is read, as Confluent's
        reader does in init()."""
        value = await _encoder(client, props, topic, "value", kind)
        key = await _encoder(client, props, topic, "key", kind) if lines.parse_key else None
        return cls(lines, value, key)

    def read(self, raw: bytes) -> OutgoingRecord:
        record = self.lines.read(raw)
        try:
            key = record.key
            if key is not None and self.key is not None:
                key = self.key.encode(key.decode())
            value = record.value
            if value is not None:
                value = self.value.encode(value.decode())
        except EncodingError as exc:
            line = raw.decode("utf-8", "replace")
            raise ReaderError(
                f"Error serializing line {self.lines.line_number} ({line!r}) with the schema: {exc}"
            ) from None
        return OutgoingRecord(key, value, record.headers)
