"""Records written as Confluent's serializers write them: header, schema id, body.

The schema a serializer writes with is found once, before the first record, the way
Confluent's console producer finds it: by id (`value.schema.id`), or by its text registered
under the subject (`auto.register`, the default) or looked up there (`use.latest.version`
takes the subject's latest version instead). TopicNameStrategy names the subject:
`<topic>-key` and `<topic>-value`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from localbroker.public import ParsedSchema, UndecodableRecord, console_codec

from .client import RegisteredSchema, RegistryClient
from .wire import framed


def subject_for(topic: str, is_key: bool) -> str:
    """Confluent's TopicNameStrategy."""
    return f"{topic}-{'key' if is_key else 'value'}"


class EncodingError(ValueError):
    """A line that is not a value of the schema; the message says which field."""


@dataclass(frozen=True, slots=True)
class SchemaEncoder:
    """Encodes JSON text with one schema, framed with its id; the JSON as Confluent's
    console producer reads it (for Avro, Avro's JSON encoding: see console_codec)."""

    schema_id: int
    parsed: ParsedSchema
    subject: str | None = None
    version: int | None = None
    """Where the schema was chosen (None when by id alone)."""

    @property
    def label(self) -> str:
        """`orders-value v2` (`schema id 7` when chosen by id)."""
        if self.subject is None:
            return f"schema id {self.schema_id}"
        return f"{self.subject} v{self.version}"

    def encode(self, text: str) -> bytes:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise EncodingError(f"not JSON: {exc}") from None
        try:
            return framed(self.schema_id, console_codec(self.parsed).encode(value))
        except UndecodableRecord as exc:
            raise EncodingError(str(exc)) from None


async def encoder_by_id(client: RegistryClient, schema_id: int) -> SchemaEncoder:
    """The schema registered with `schema_id` (`value.schema.id`, `key.schema.id`)."""
    return SchemaEncoder(schema_id, await client.parsed(schema_id))


async def registered_at(
    client: RegistryClient, subject: str, version: int | str
) -> tuple[RegisteredSchema, int]:
    """The schema of a subject's version (`latest` allowed) and that version's number."""
    body = await client.version(subject, version)
    return RegisteredSchema.from_answer(int(body["id"]), body), int(body["version"])


async def encoder_at(client: RegistryClient, subject: str, version: int | str) -> SchemaEncoder:
    """The encoder of a subject's version (`latest` allowed: use.latest.version)."""
    registered, number = await registered_at(client, subject, version)
    parsed = await client.parse(registered)
    return SchemaEncoder(registered.schema_id, parsed, subject, number)


async def encoder_for(
    client: RegistryClient,
    subject: str,
    schema: RegisteredSchema,
    *,
    auto_register: bool = True,
    use_latest: bool = False,
    normalize: bool = False,
) -> SchemaEncoder:
    """The encoder for `schema` under `subject`: registered (auto.register), the subject's
    latest version (use.latest.version), or looked up. The text is parsed first, so a schema
    that is not one fails here with the format's own message."""
    if use_latest:
        return await encoder_at(client, subject, "latest")
    parsed = await client.parse(schema)
    if auto_register:
        schema_id = await client.register(subject, schema, normalize=normalize)
    else:
        schema_id = await client.lookup(subject, schema, normalize=normalize)
    return SchemaEncoder(schema_id, parsed)
