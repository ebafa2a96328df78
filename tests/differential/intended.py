"""Every difference from Apache Kafka 4.1 that the differential suite finds and localbroker
keeps, by scenario name (both versions) or case id (`name[lowest]`), then by the path of the
differing field, with the reason. README's "Differences from Apache Kafka" lists the same.

A listed path must still differ: when localbroker changes to match Kafka, the check fails
until the row is removed, so this table never outlives what it describes."""

from __future__ import annotations

INTENDED: dict[str, dict[str, str]] = {
    "timestamp-out-of-range[highest]": {
        ".record_errors": "localbroker checks a batch's first and greatest timestamps in its"
        " header, not each record, so it cannot name the record that is out of range",
    },
}
