"""An asyncio client for Confluent's Schema Registry REST API (and the registries that copy it).

Only what reading and writing records needs: a schema by id with its references resolved,
the subject versions an id is registered under, the subjects (to choose one to write with), a
subject's version, registering and looking up a schema. Schemas by id never change (an id
names one schema for good), so they are kept once fetched: a tail of a million records
fetches each schema once. Errors are one type, RegistryError, carrying Confluent's
`error_code` (40403 schema not found, 40401 subject not found, 42201 invalid schema, 409
incompatible ...) and message, or no code at all when the registry could not be reached;
every request is bounded by REQUEST_TIMEOUT_S. With several URLs (`schema.registry.url=a,b`)
the next is tried when one cannot be reached, as Confluent's RestService does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import aiohttp

from localbroker.public import (
    CompatibilityLevel,
    ParsedSchema,
    SchemaReference,
    SchemaType,
    schema_format,
)

from .settings import RegistrySettings

REQUEST_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SCHEMA_NOT_FOUND = 40403
SUBJECT_NOT_FOUND = 40401
VERSION_NOT_FOUND = 40402
SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED = 40408
INVALID_SCHEMA = 42201
UNPARSEABLE_ERROR = 50005
"""What Confluent's RestService calls an error response it cannot read (JSON_PARSE_ERROR_CODE)."""
_MAX_REFERENCE_DEPTH = 64
T = TypeVar("T")


class RegistryError(Exception):
    """A registry refused or could not be reached; str() is the line to show.

    `error_code` is Confluent's (40403 ...) or None when no answer came (unreachable, timed
    out); `status` the HTTP status (0 without an answer)."""

    def __init__(self, message: str, error_code: int | None = None, status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.status = status

    @property
    def unreachable(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """A schema as the registry stores it: its text, type and references."""

    schema_id: int
    schema_type: SchemaType
    text: str
    references: tuple[SchemaReference, ...] = ()

    @classmethod
    def from_answer(cls, schema_id: int, body: Mapping[str, Any]) -> RegisteredSchema:
        """From the registry's JSON (`schema`, `schemaType`, `references`)."""
        return cls(schema_id, _schema_type(body), str(body["schema"]), _references(body))


@dataclass(frozen=True, slots=True)
class SubjectVersion:
    subject: str
    version: int


def _references(body: Mapping[str, Any]) -> tuple[SchemaReference, ...]:
    return tuple(
        SchemaReference(str(r["name"]), str(r["subject"]), int(r["version"]))
        for r in body.get("references") or ()
    )


def _schema_type(body: Mapping[str, Any]) -> SchemaType:
    """`schemaType` is absent for AVRO (Confluent leaves it out)."""
    return SchemaType(body.get("schemaType") or SchemaType.AVRO)


class RegistryClient:
    """One registry, over one aiohttp session; use as `async with RegistryClient(settings)`."""

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._by_id: dict[int, RegisteredSchema] = {}
        self._parsed: dict[int, ParsedSchema] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            headers = {"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE}
            settings = self.settings
            if settings.username is not None:
                login = f"{settings.username}:{settings.password or ''}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(login).decode("ascii")
            self._session = aiohttp.ClientSession(
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            )
        return self._session

    async def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """The JSON answer to `method path`; RegistryError for an error answer or none."""
        last: RegistryError | None = None
        for base in self.settings.urls:
            try:
                async with self._http().request(method, base + path, json=body) as response:
                    text = await response.text()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = "timed out" if isinstance(exc, TimeoutError) else str(exc) or repr(exc)
                last = RegistryError(f"schema registry {base} unreachable: {reason}")
                continue
            return _answer(status, text, method, base + path)
        assert last is not None, "a registry has at least one URL"
        raise last

    # -- schemas by id -----------------------------------------------------------------------

    async def schema(self, schema_id: int) -> RegisteredSchema:
        """GET /schemas/ids/{id} (kept: an id names one schema for good)."""
        known = self._by_id.get(schema_id)
        if known is None:
            body = await self.request("GET", f"/schemas/ids/{schema_id}")
            known = shaped(lambda: RegisteredSchema.from_answer(schema_id, body), body)
            self._by_id[schema_id] = known
        return known

    async def subject_versions(self, schema_id: int) -> list[SubjectVersion]:
        """GET /schemas/ids/{id}/versions: where the id is registered (possibly nowhere
        live any more: a soft-deleted version keeps its id)."""
        body = await self.request("GET", f"/schemas/ids/{schema_id}/versions")
        return shaped(
            lambda: [SubjectVersion(str(v["subject"]), int(v["version"])) for v in body], body
        )

    async def parsed(self, schema_id: int) -> ParsedSchema:
        """The schema of `schema_id` parsed by its format with its references resolved
        (kept, like the text). Raises RegistryError, or the format's InvalidSchema."""
        parsed = self._parsed.get(schema_id)
        if parsed is None:
            parsed = await self.parse(await self.schema(schema_id))
            self._parsed[schema_id] = parsed
        return parsed

    async def parse(self, schema: RegisteredSchema) -> ParsedSchema:
        texts = await self.referenced_texts(schema.references)
        return schema_format(schema.schema_type).parse(schema.text, texts)

    async def referenced_texts(self, references: Sequence[SchemaReference]) -> dict[str, str]:
        """Every schema `references` names, directly or through another, by reference name
        (as SchemaFormat.parse takes them), each fetched once."""
        texts: dict[str, str] = {}
        pending = list(references)
        fetched = 0
        while pending:
            reference = pending.pop()
            if reference.name in texts:
                continue
            fetched += 1
            if fetched > _MAX_REFERENCE_DEPTH:
                raise RegistryError(f"more than {_MAX_REFERENCE_DEPTH} schema references")
            body = await self.version(reference.subject, reference.version)
            texts[reference.name] = str(body["schema"])
            pending.extend(_references(body))
        return texts

    # -- subjects ----------------------------------------------------------------------------

    async def version(self, subject: str, version: int | str) -> dict[str, Any]:
        """GET /subjects/{subject}/versions/{version} (`latest` allowed): subject, version,
        id, schemaType, schema, references."""
        body: dict[str, Any] = await self.request(
            "GET", f"/subjects/{quote(subject, safe='')}/versions/{version}"
        )
        return body

    async def register(
        self, subject: str, schema: RegisteredSchema, *, normalize: bool = False
    ) -> int:
        """POST /subjects/{subject}/versions: the id of the schema, registered if new (the
        registry checks compatibility and answers 409 when it fails)."""
        query = "?normalize=true" if normalize else ""
        body = await self.request(
            "POST", f"/subjects/{quote(subject, safe='')}/versions{query}", _payload(schema)
        )
        return int(body["id"])

    async def subjects(self) -> list[str]:
        """GET /subjects: the live subjects, sorted as the registry lists them."""
        body = await self.request("GET", "/subjects")
        return shaped(lambda: [str(s) for s in body], body)

    async def versions(self, subject: str) -> list[int]:
        """GET /subjects/{subject}/versions: its live versions, oldest first."""
        body = await self.request("GET", f"/subjects/{quote(subject, safe='')}/versions")
        return shaped(lambda: sorted(int(v) for v in body), body)

    async def compatibility(self, subject: str | None) -> CompatibilityLevel | None:
        """GET /config[/{subject}]: the subject's own compatibility level (None when it has
        none and follows the global one), or the global level with no subject."""
        path = "/config" if subject is None else f"/config/{quote(subject, safe='')}"
        try:
            body = await self.request("GET", path)
        except RegistryError as exc:
            if exc.error_code == SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED:
                return None
            raise
        return shaped(lambda: CompatibilityLevel(body["compatibilityLevel"]), body)

    async def set_compatibility(self, subject: str, level: CompatibilityLevel) -> None:
        """PUT /config/{subject}: the subject's own compatibility level."""
        await self.request(
            "PUT", f"/config/{quote(subject, safe='')}", {"compatibility": level.value}
        )

    async def incompatibilities(self, subject: str, schema: RegisteredSchema) -> list[str]:
        """POST /compatibility/subjects/{subject}/versions/latest?verbose=true: why
        registering `schema` under `subject` would be refused (nothing when it would not).
        Confluent answers without messages when it says no reason; one is made up then."""
        body = await self.request(
            "POST",
            f"/compatibility/subjects/{quote(subject, safe='')}/versions/latest?verbose=true",
            _payload(schema),
        )
        if shaped(lambda: bool(body["is_compatible"]), body):
            return []
        messages = [str(m) for m in body.get("messages") or ()]
        return messages or [f"the schema is incompatible with the latest of {subject}"]

    async def lookup(
        self, subject: str, schema: RegisteredSchema, *, normalize: bool = False
    ) -> int:
        """POST /subjects/{subject}: the id of an already registered schema (40403 when the
        subject does not have it, 40401 without the subject)."""
        query = "?normalize=true" if normalize else ""
        body = await self.request(
            "POST", f"/subjects/{quote(subject, safe='')}{query}", _payload(schema)
        )
        return int(body["id"])


def shaped(build: Callable[[], T], body: object) -> T:
    """What `build` reads from an answer; RegistryError when the answer lacks it (a
    registry speaking another dialect, or a schemaType newer than this client)."""
    try:
        return build()
    except (KeyError, TypeError, ValueError) as exc:
        raise RegistryError(
            f"unexpected answer from the registry ({exc!r}): {str(body)[:200]}", UNPARSEABLE_ERROR
        ) from None


def _payload(schema: RegisteredSchema) -> dict[str, Any]:
    payload: dict[str, Any] = {"schema": schema.text}
    if schema.schema_type is not SchemaType.AVRO:
        payload["schemaType"] = schema.schema_type.value
    if schema.references:
        payload["references"] = [
            {"name": r.name, "subject": r.subject, "version": r.version} for r in schema.references
        ]
    return payload


def _answer(status: int, text: str, method: str, url: str) -> Any:
    """A 2xx answer's JSON, or the RegistryError an error answer says."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if 200 <= status < 300:
        if body is None:
            raise RegistryError(
                f"{method} {url}: unreadable answer (HTTP {status})", UNPARSEABLE_ERROR, status
            )
        return body
    if isinstance(body, dict) and "error_code" in body:
        message = str(body.get("message") or f"HTTP {status}")
        raise RegistryError(message, int(body["error_code"]), status)
    detail = text.strip().splitlines()[0][:200] if text.strip() else "no body"
    raise RegistryError(f"HTTP {status} from {url}: {detail}", UNPARSEABLE_ERROR, status)
