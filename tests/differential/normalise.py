"""Responses as plain data, and the one place where values that legitimately differ between
two brokers are replaced by placeholders.

What differs by deployment and not by behaviour: the cluster id, node ids (Kafka's reference
is node 1, a localbroker may be any), hosts, ports and log directories, throttle times (both
brokers throttle nothing, but that is a quota decision), uuids (topic ids, the uuid inside a
member id; each becomes `<uuid-N>` by first appearance, so two fields holding the same uuid
still match), and the clock (log append times, a group's or member's wall-clock stamps).
Everything else is compared as it is.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
import time
import uuid
from typing import Any

from kio.schema.errors import ErrorCode

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

NODE_FIELDS = frozenset(
    {
        "node_id",
        "leader_id",
        "controller_id",
        "broker_id",
        "coordinator_id",
        "replica_nodes",
        "isr_nodes",
        "offline_replicas",
        "eligible_leader_replicas",
        "last_known_elr",
        "broker_ids",
    }
)
"""Fields holding node ids (or lists of them); -1 (none) stays."""
PLACEHOLDERS = {
    "throttle_time": 0,
    "cluster_id": "<cluster-id>",
    "host": "<host>",
    "port": "<port>",
    "log_dir": "<log-dir>",
    "path": "<log-dir>",
    "total_bytes": "<disk>",
    "usable_bytes": "<disk>",
}
"""Fields replaced whatever their value (None stays None)."""
CLOCK_FIELDS = frozenset({"log_append_time", "log_append_time_ms"})
"""Timestamps the broker may take from its clock: one within a day of now becomes `<now>`
(scenarios' own record timestamps are years old, so a duplicate's answer, which carries the
original batch's timestamp, is still compared)."""
DAY_MS = 86_400_000
LISTENER_CONFIGS = frozenset(
    {"listeners", "advertised.listeners", "log.dirs", "log.dir", "node.id", "broker.id"}
)
"""Config values naming this deployment's addresses, directories and ids."""


def plain(value: Any) -> Any:
    """A kio response as nested dicts and lists of ints, strings and bytes: error codes by
    name, durations and times in milliseconds, uuids as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, ErrorCode):
        return value.name
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.timedelta):
        return int(value / datetime.timedelta(milliseconds=1))
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class Normaliser:
    """Replaces what legitimately differs; one per scenario run, so uuids are numbered by their
    first appearance in that run's answers."""

    def __init__(self) -> None:
        self.uuids: dict[str, str] = {}

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            if isinstance(value.get("name"), str) and value["name"] in LISTENER_CONFIGS:
                return {k: self._config(k, v) for k, v in value.items()}
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(item, key) for item in value]
        if value is None:
            return None
        if key in PLACEHOLDERS:
            return PLACEHOLDERS[key]
        if key in NODE_FIELDS and isinstance(value, int):
            return value if value < 0 else "<node>"
        if key in CLOCK_FIELDS and isinstance(value, int):
            return "<now>" if abs(value - time.time() * 1000) < DAY_MS else value
        if isinstance(value, str):
            return _UUID.sub(self._uuid, value)
        return value

    def _uuid(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if found == ZERO_UUID:
            return found
        return self.uuids.setdefault(found, f"<uuid-{len(self.uuids) + 1}>")

    def _config(self, key: str, value: Any) -> Any:
        if key == "value":
            return "<deployment>"
        if key == "synonyms" and isinstance(value, list):
            return [{**s, "value": "<deployment>"} for s in value]
        return self(value, key)


def normalise(value: Any) -> Any:
    return Normaliser()(plain(value))


def differences(ours: Any, kafkas: Any, path: str = "") -> list[str]:
    """Where two normalised answers differ, one line per leaf: `path: localbroker X, Kafka Y`.
    Lists are compared item by item; a list of dicts with a `name` is keyed by it."""
    if isinstance(ours, dict) and isinstance(kafkas, dict):
        lines = []
        for key in [*ours, *(k for k in kafkas if k not in ours)]:
            if key not in kafkas:
                lines.append(f"{path}.{key}: localbroker {ours[key]!r}, Kafka has no such field")
            elif key not in ours:
                lines.append(f"{path}.{key}: Kafka {kafkas[key]!r}, localbroker has none")
            else:
                lines += differences(ours[key], kafkas[key], f"{path}.{key}")
        return lines
    if isinstance(ours, list) and isinstance(kafkas, list):
        if _named(ours) and _named(kafkas):
            lines = differences(_by_name(ours), _by_name(kafkas), path)
            order = ([i["name"] for i in ours], [i["name"] for i in kafkas])
            if not lines and order[0] != order[1]:
                lines.append(f"{path}: order localbroker {order[0]}, Kafka {order[1]}")
            return lines
        lines = [
            line
            for index, (a, b) in enumerate(zip(ours, kafkas, strict=False))
            for line in differences(a, b, f"{path}[{index}]")
        ]
        if len(ours) != len(kafkas):
            lines.append(
                f"{path}: {len(ours)} items at localbroker, {len(kafkas)} at Kafka"
                f" (extra: {ours[len(kafkas) :] or kafkas[len(ours) :]!r})"
            )
        return lines
    return [] if ours == kafkas else [f"{path}: localbroker {ours!r}, Kafka {kafkas!r}"]


def _named(items: list[Any]) -> bool:
    names = [item.get("name") for item in items if isinstance(item, dict)]
    return (
        len(names) == len(items)
        and all(isinstance(n, str) for n in names)
        and (len(set(names)) == len(names))
    )


def _by_name(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["name"]: item for item in items}
