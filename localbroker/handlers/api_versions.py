"""ApiVersions: the table of what this broker serves (the fallback for unknown versions is in
the server, which answers before a body it cannot parse is decoded), and from v3 the feature
levels (KIP-584): only transaction.version, the one feature localbroker implements, supported
from 0 to 2 and finalized at 2 as Kafka 4.1 advertises it (not finalized when serving an older
release's request versions, see epoch_bump.finalized_level)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..protocol.names import ApiKey, Feature
from ..transactions.epoch_bump import TRANSACTION_VERSION
from .registry import RequestContext, handles
from .versions import advertised_versions

if TYPE_CHECKING:
    from ..state import BrokerState

SUPPORTED_FEATURES = {Feature.TRANSACTION_VERSION: (0, TRANSACTION_VERSION)}
FINALIZED_FEATURES_EPOCH = 1
"""Kafka answers the metadata log's offset of the last feature change; clients only compare
epochs (the Java client takes the levels of the highest it saw), and localbroker's levels
never change."""
OMITS_FEATURES_FROM_ZERO_BEFORE = 4
"""ApiVersions v3 leaves out supported features whose lowest version is 0 (clients before
KIP-1022 would take 0 for "not supported")."""

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
    if error != ErrorCode.none:
        return ctx.respond({"error_code": error, "api_keys": [], "throttle_time": 0})
    answer = {"error_code": error, "api_keys": table, "throttle_time": 0}
    return ctx.respond({**answer, **_features(state, ctx)})


def _features(state: BrokerState, ctx: RequestContext) -> dict[str, Any]:
    """The feature fields (tagged, v3 on; ignored by the earlier versions' schemas)."""
    if ctx.api_version < 3:
        return {}
    oldest = 0 if ctx.api_version >= OMITS_FEATURES_FROM_ZERO_BEFORE else 1
    finalized = {Feature.TRANSACTION_VERSION: state.transactions.transaction_version}
    return {
        "supported_features": [
            {"name": name, "min_version": low, "max_version": high}
            for name, (low, high) in SUPPORTED_FEATURES.items()
            if low >= oldest
        ],
        "finalized_features_epoch": FINALIZED_FEATURES_EPOCH,
        "finalized_features": [  # a feature at level 0 is not finalized: Kafka leaves it out
            {"name": name, "max_version_level": level, "min_version_level": level}
            for name, level in finalized.items()
            if level > 0
        ],
    }
