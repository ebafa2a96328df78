"""Confluent's REST API on aiohttp: requests in, the registry's answers and refusals out.

Routes, query parameters, status codes and error bodies follow Confluent's rest/resources and
rest/exceptions: every refusal is `{"error_code": N, "message": "..."}`; a body that is not
JSON gets 400 and JSON of the wrong shape 422, as Jackson's mappers answer in Confluent; an
unknown path or id gets Jersey's `HTTP 404 Not Found`. Nothing unexpected escapes as a 500
with a traceback: it is logged here and answered with error code 50001.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from . import views
from .errors import INVALID_COMPATIBILITY, INVALID_MODE, ErrorCode, RegistryError
from .operations import Registry, SchemaRequest, Written
from .records import Mode, SchemaRecord, reference_from_json
from .schema_format import CompatibilityLevel
from .state import content_of
from .store import KafkaStore

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    }
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(document: object, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(document), content_type=CONTENT_TYPE, charset=None
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _answer({"error_code": code, "message": message}, status)


@web.middleware
async def confluent_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RegistryError as exc:
        return _error(exc.code.http_status, exc.code, exc.message)
    except web.HTTPException as exc:
        return _error(exc.status, exc.status, f"HTTP {exc.status} {exc.reason}")
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("schema registry: %s %s failed", request.method, request.path)
        code = ErrorCode.STORE_ERROR
        return _error(code.http_status, code, "Error in the backend data store")


REALM = "SchemaRegistry"
"""The `authentication.realm` Confluent's documentation configures for the registry."""


@dataclass(frozen=True, slots=True)
class BasicLogin:
    """The one user:password the registry accepts (`--schema-registry-user`); the password
    is kept out of every repr and message."""

    username: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, user_info: str) -> BasicLogin:
        username, colon, password = user_info.partition(":")
        if not colon or not username:
            raise ValueError("the schema registry user must be given as USER:PASSWORD")
        return cls(username, password)


def basic_auth(login: BasicLogin) -> Middleware:
    """Refuse requests without `login`'s HTTP basic credentials, before any route (so an
    unknown path is 401 too), as rest-utils' Jetty BasicAuthenticator does with
    `authentication.method=BASIC`: 401, `WWW-Authenticate: basic realm=...` and its JSON error
    handler's body. The comparison takes the same time whatever the client sent."""
    expected = f"{login.username}:{login.password}".encode()

    @web.middleware
    async def authenticated(request: web.Request, handler: Handler) -> web.StreamResponse:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:  # binascii.Error included
            given = b""
        if scheme.lower() == "basic" and hmac.compare_digest(given, expected):
            return await handler(request)
        refusal = _error(401, 401, "Unauthorized")
        refusal.headers["WWW-Authenticate"] = f'basic realm="{REALM}"'
        return refusal

    return authenticated


def _flag(request: web.Request, name: str) -> bool:
    """Jersey's boolean query parameter: "true" in any case; anything else is false."""
    return request.query.get(name, "").lower() == "true"


def _schema_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _body(request: web.Request) -> dict[str, Any]:
    content_type = request.headers.get("Content-Type")
    if content_type is not None and request.content_type not in ACCEPTED_CONTENT_TYPES:
        raise web.HTTPUnsupportedMediaType()
    raw = await request.read()
    if not raw.strip():
        raise RegistryError(ErrorCode.UNPROCESSABLE_ENTITY, "Request body is missing")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegistryError(ErrorCode.BAD_REQUEST, f"Unexpected character: {exc}") from None
    if not isinstance(document, dict):
        raise RegistryError(
            ErrorCode.UNPROCESSABLE_ENTITY,
            f"Cannot deserialize the request from a JSON {type(document).__name__}",
        )
    return document


def _field(document: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = document.get(name)
    if value is None:
        return default
    if type(value) is not kind:
        raise RegistryError(
            ErrorCode.UNPROCESSABLE_ENTITY,
            f"Cannot deserialize field '{name}' from {json.dumps(value)[:80]}",
        )
    return value


def _schema_request(document: dict[str, Any]) -> SchemaRequest:
    references = _field(document, "references", list, [])
    try:
        parsed = tuple(reference_from_json(reference) for reference in references)
    except ValueError as exc:
        raise RegistryError(ErrorCode.UNPROCESSABLE_ENTITY, str(exc)) from None
    return SchemaRequest(
        schema=_field(document, "schema", str, ""),
        schema_type=_field(document, "schemaType", str, "AVRO"),
        references=parsed,
        version=_field(document, "version", int, 0),
        schema_id=_field(document, "id", int, -1),
    )


def _subject_or_global(request: web.Request) -> str | None:
    return request.match_info.get("subject")


class RegistryApi:
    """The routes; reads answer from the state, writes go through the store one at a time."""

    def __init__(
        self,
        registry: Registry,
        store: KafkaStore,
        kafka_cluster_id: str,
        login: BasicLogin | None = None,
    ) -> None:
        self.registry = registry
        self.login = login
        """Without it every request is answered (Confluent's authentication.method=NONE)."""
        self.state = registry.state
        self.store = store
        self.kafka_cluster_id = kafka_cluster_id
        self._writing = asyncio.Lock()

    async def _write(self, plan: Callable[[], Written]) -> web.Response:
        """Plan against the state as it is once earlier writes have been applied."""
        async with self._writing:
            written = plan()
            await self.store.write(written.records)
        return _answer(written.answer)

    def application(self) -> web.Application:
        middlewares: list[Middleware] = [confluent_errors]
        if self.login is not None:
            middlewares.insert(0, basic_auth(self.login))
        app = web.Application(middlewares=middlewares, client_max_size=16 * 1024 * 1024)
        get, post, put, delete = web.get, web.post, web.put, web.delete
        versions = "/subjects/{subject}/versions"
        app.add_routes(
            [
                get("/", self.root),
                post("/", self.root),
                get("/v1/metadata/id", self.metadata_id),
                get("/schemas/types", self.schema_types),
                get("/schemas/ids/{id}", self.schema_by_id),
                get("/schemas/ids/{id}/schema", self.schema_text),
                get("/schemas/ids/{id}/subjects", self.id_subjects),
                get("/schemas/ids/{id}/versions", self.id_versions),
                get("/subjects", self.subjects),
                get(versions, self.versions),
                post(versions, self.register),
                get(versions + "/{version}", self.version),
                delete(versions + "/{version}", self.delete_version),
                get(versions + "/{version}/schema", self.version_schema),
                get(versions + "/{version}/referencedby", self.referenced_by),
                post("/subjects/{subject}", self.lookup),
                delete("/subjects/{subject}", self.delete_subject),
                post("/compatibility/subjects/{subject}/versions", self.compatibility),
                post("/compatibility/subjects/{subject}/versions/{version}", self.compatibility),
            ]
        )
        for path in ("/config", "/config/{subject}"):
            app.add_routes([get(path, self.config), put(path, self.set_config)])
            app.add_routes([delete(path, self.delete_config)])
        for path in ("/mode", "/mode/{subject}"):
            app.add_routes([get(path, self.mode), put(path, self.set_mode)])
            app.add_routes([delete(path, self.delete_mode)])
        return app

    async def root(self, request: web.Request) -> web.Response:
        return _answer({})

    async def metadata_id(self, request: web.Request) -> web.Response:
        clusters = {
            "kafka-cluster": self.kafka_cluster_id,
            "schema-registry-cluster": "schema-registry",
        }
        return _answer({"scope": {"path": [], "clusters": clusters}})

    async def schema_types(self, request: web.Request) -> web.Response:
        return _answer(sorted(schema_type.value for schema_type in self.registry.formats))

    def _formatter(self, request: web.Request) -> views.Formatter:
        """`?format=`: a form of the schema its type defines (Confluent's `formattedString`)."""
        fmt = request.query.get("format", "")
        return lambda content: self.registry.formatted(content, fmt)

    async def schema_by_id(self, request: web.Request) -> web.Response:
        subject, formatter = request.query.get("subject"), self._formatter(request)
        answer = views.schema_by_id(
            self.state, _schema_id(request), subject, _flag(request, "fetchMaxId"), formatter
        )
        return _answer(answer)

    async def schema_text(self, request: web.Request) -> web.Response:
        text = views.schema_text(self.state, _schema_id(request), self._formatter(request))
        return web.Response(text=text, content_type=CONTENT_TYPE, charset=None)

    async def id_subjects(self, request: web.Request) -> web.Response:
        deleted = _flag(request, "deleted")
        return _answer(views.id_subjects(self.state, _schema_id(request), deleted))

    async def id_versions(self, request: web.Request) -> web.Response:
        deleted = _flag(request, "deleted")
        return _answer(views.id_versions(self.state, _schema_id(request), deleted))

    async def subjects(self, request: web.Request) -> web.Response:
        prefix = request.query.get("subjectPrefix", "")
        names = self.state.subjects(
            deleted=_flag(request, "deleted"), deleted_only=_flag(request, "deletedOnly")
        )
        return _answer([name for name in names if name.startswith(prefix)])

    async def versions(self, request: web.Request) -> web.Response:
        subject, deleted = request.match_info["subject"], _flag(request, "deleted")
        return _answer(views.subject_versions(self.state, subject, deleted))

    def _version(self, request: web.Request) -> SchemaRecord:
        version = views.parse_version(request.match_info["version"])
        subject, deleted = request.match_info["subject"], _flag(request, "deleted")
        return views.version_of(self.state, subject, version, deleted)

    async def version(self, request: web.Request) -> web.Response:
        record = self._version(request)
        text = self._formatter(request)(content_of(record))
        return _answer(views.schema_view(record, text))

    async def version_schema(self, request: web.Request) -> web.Response:
        text = self._formatter(request)(content_of(self._version(request)))
        return web.Response(text=text, content_type=CONTENT_TYPE, charset=None)

    async def referenced_by(self, request: web.Request) -> web.Response:
        version = views.parse_version(request.match_info["version"])
        subject, deleted = request.match_info["subject"], _flag(request, "deleted")
        return _answer(views.referenced_by(self.state, subject, version, deleted))

    async def register(self, request: web.Request) -> web.Response:
        subject = request.match_info["subject"]
        schema = _schema_request(await _body(request))
        normalize = _flag(request, "normalize")
        return await self._write(lambda: self.registry.register(subject, schema, normalize))

    async def lookup(self, request: web.Request) -> web.Response:
        subject = request.match_info["subject"]
        schema = _schema_request(await _body(request))
        normalize, deleted = _flag(request, "normalize"), _flag(request, "deleted")
        fmt = request.query.get("format", "")
        return _answer(self.registry.lookup(subject, schema, normalize, deleted, fmt))

    async def delete_version(self, request: web.Request) -> web.Response:
        subject = request.match_info["subject"]
        version = views.parse_version(request.match_info["version"])
        permanent = _flag(request, "permanent")
        return await self._write(lambda: self.registry.delete_version(subject, version, permanent))

    async def delete_subject(self, request: web.Request) -> web.Response:
        subject, permanent = request.match_info["subject"], _flag(request, "permanent")
        return await self._write(lambda: self.registry.delete_subject(subject, permanent))

    async def compatibility(self, request: web.Request) -> web.Response:
        subject = request.match_info["subject"]
        given = request.match_info.get("version")
        version = views.parse_version(given) if given is not None else None
        schema = _schema_request(await _body(request))
        answer = self.registry.check_compatibility(
            subject, version, schema, _flag(request, "verbose")
        )
        return _answer(answer)

    async def config(self, request: web.Request) -> web.Response:
        subject = _subject_or_global(request)
        default_to_global = subject is None or _flag(request, "defaultToGlobal")
        return _answer(views.config_view(self.state, subject, default_to_global))

    async def set_config(self, request: web.Request) -> web.Response:
        subject = _subject_or_global(request)
        body = await _body(request)
        name = _field(body, "compatibility", str, None) or _field(
            body, "compatibilityLevel", str, None
        )
        try:
            level = CompatibilityLevel(name.upper()) if name is not None else None
        except ValueError:
            raise INVALID_COMPATIBILITY from None
        normalize = _field(body, "normalize", bool, None)
        return await self._write(lambda: self.registry.set_config(subject, level, normalize))

    async def delete_config(self, request: web.Request) -> web.Response:
        subject = _subject_or_global(request)
        return await self._write(lambda: self.registry.delete_config(subject))

    async def mode(self, request: web.Request) -> web.Response:
        subject = _subject_or_global(request)
        default_to_global = _flag(request, "defaultToGlobal")
        return _answer(views.mode_view(self.state, subject, default_to_global))

    async def set_mode(self, request: web.Request) -> web.Response:
        subject = _subject_or_global(request)
        name = _field(await _body(request), "mode", str, "")
        try:
            mode = Mode(name.upper())
        except ValueError:
            raise INVALID_MODE from None
        force = _flag(request, "force")
        return await self._write(lambda: self.registry.set_mode(subject, mode, force))

    async def delete_mode(self, request: web.Request) -> web.Response:
        subject = _subject_or_global(request)
        return await self._write(lambda: self.registry.delete_mode(subject))
