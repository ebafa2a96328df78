"""ApiVersions: the table of what this broker serves (the fallback for unknown versions is in
the server, which answers before a body it cannot parse is decoded)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..protocol.names import ApiKey
from .registry import RequestContext, handles
from .versions import advertised_versions

if TYPE_CHECKING:
    from ..state import BrokerState

_SOFTWARE_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$")


@handles(ApiKey.API_VERSIONS, 0, 4)
def api_versions(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    error = ErrorCode.none
    if ctx.api_version >= 3 and not (
        _SOFTWARE_NAME.match(request.client_software_name)
        and _SOFTWARE_NAME.match(request.client_software_version)
    ):
        error = ErrorCode.invalid_request
    table = [
        {"api_key": key, "min_version": low, "max_version": high}
        for key, (low, high) in advertised_versions(state.config.api_versions_of).items()
    ]
    # a refused request gets no table, as Kafka answers (ApiVersionsRequest.getErrorResponse)
    api_keys = table if error == ErrorCode.none else []
    return ctx.respond({"error_code": error, "api_keys": api_keys, "throttle_time": 0})
