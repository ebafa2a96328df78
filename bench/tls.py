"""What TLS costs produce throughput: one localbroker with a PLAINTEXT and an SSL listener,
the same librdkafka producer load on each, in the same run.

    python bench/tls.py [--repeat 3] [--sizes 100,1000,10000] [--megabytes 50]

For each record size, a confluent-kafka producer (acks=all, linger 5 ms) writes about
`--megabytes` MB to a new topic on one listener, then the same on the other; runs alternate
and the median of `--repeat` runs is reported with SSL's ratio to PLAINTEXT. The broker runs as
`localbroker` does (its own process, uvloop when installed); certificates are made with openssl.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from certificates import make_certificates
from confluent_kafka import Producer
from peers import free_port, localbroker
from rich.console import Console
from rich.table import Table

TIMEOUT = 120.0


def produce(settings: dict[str, str], size: int, megabytes: int) -> float:
    """Records per second acknowledged, from the first send to the last acknowledgement."""
    count = max(1000, megabytes * 1_000_000 // size)
    producer = Producer({**settings, "acks": "all", "linger.ms": 5})
    topic = f"tls-{uuid.uuid4().hex[:8]}"
    payload = b"x" * size
    producer.produce(topic, payload)  # creates the topic outside the timed part
    assert producer.flush(TIMEOUT) == 0
    started = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, payload)
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(TIMEOUT) == 0, "records were not acknowledged"
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    certificates = make_certificates(Path(tempfile.mkdtemp(prefix="tls-bench-")))
    plain_port, ssl_port = free_port(), free_port()
    overrides = {
        "listeners": f"PLAINTEXT://127.0.0.1:{plain_port},SSL://127.0.0.1:{ssl_port}",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(certificates.server_keystore),
    }
    table = Table(title="produce throughput, PLAINTEXT vs SSL (records/s, medians)")
    for column in ("record bytes", "PLAINTEXT", "SSL", "SSL / PLAINTEXT"):
        table.add_column(column, justify="right")
    with localbroker(overrides=overrides) as bootstrap:
        host = bootstrap.rsplit(":", 1)[0]
        listeners = {
            "PLAINTEXT": {"bootstrap.servers": bootstrap},
            "SSL": {
                "bootstrap.servers": f"{host}:{ssl_port}",
                "security.protocol": "SSL",
                "ssl.ca.location": str(certificates.ca),
            },
        }
        for size in (int(s) for s in args.sizes.split(",")):
            rates: dict[str, list[float]] = {name: [] for name in listeners}
            for _ in range(args.repeat):
                for name, settings in listeners.items():
                    rates[name].append(produce(settings, size, args.megabytes))
            plain, tls = (statistics.median(rates[n]) for n in ("PLAINTEXT", "SSL"))
            table.add_row(str(size), f"{plain:,.0f}", f"{tls:,.0f}", f"{tls / plain:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
