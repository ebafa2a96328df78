"""Which Kafka APIs the broker serves, at which versions, and by which function.

A handler is registered with the version window it fully implements; ApiVersions
advertises exactly this table, so an API that is not implemented is never advertised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..protocol.build import build
from ..protocol.codec import RequestHeader, response_schema

if TYPE_CHECKING:
    from ..security.session import Session
    from ..state import BrokerState


@dataclass(slots=True)
class RequestContext:
    """What a handler knows about the request besides its body."""

    header: RequestHeader
    client_host: str
    client_port: int
    now_ms: int
    session: Session
    close_connection: bool = field(default=False)
    """Close without answering (a request Kafka refuses that way)."""
    close_after_response: bool = field(default=False)
    """Answer, then close (a failed authentication)."""

    @property
    def principal(self) -> str:
        return self.session.principal

    @property
    def listener(self) -> str:
        return self.session.listener.endpoint.name

    @property
    def api_version(self) -> int:
        return self.header.api_version

    def respond(self, data: dict[str, Any]) -> Any:
        """The response of this request's API and version, built from `data`."""
        schema = response_schema(self.header.api_key, self.header.api_version)
        assert schema is not None
        return build(schema, data)


HandlerFunction = Callable[["BrokerState", RequestContext, Any], Any]


@dataclass(frozen=True, slots=True)
class Handler:
    api_key: int
    min_version: int
    max_version: int
    function: HandlerFunction


HANDLERS: dict[int, Handler] = {}


def handles(
    api_key: int, min_version: int, max_version: int
) -> Callable[[HandlerFunction], HandlerFunction]:
    def register(function: HandlerFunction) -> HandlerFunction:
        assert api_key not in HANDLERS, f"API {api_key} registered twice"
        HANDLERS[api_key] = Handler(api_key, min_version, max_version, function)
        return function

    return register


def supported_versions() -> dict[int, tuple[int, int]]:
    return {key: (h.min_version, h.max_version) for key, h in sorted(HANDLERS.items())}
