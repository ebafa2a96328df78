"""Kafka Connect standalone (ConnectStandalone, Kafka's connect-standalone.sh) moves a file
through localbroker with the file source and sink connectors, its source offsets in a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from java_programs import TEST_TIMEOUT, JavaPrograms
from waiting import wait_until

from tui.embedded import EmbeddedBroker

TOPIC = "connect-lines"
TIMEOUT = 90.0
"""Seconds for Connect to start (a JVM, the worker, two connectors) and move the lines."""

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)


def properties(path: Path, **values: str) -> Path:
    path.write_text("".join(f"{key.replace('_', '.')}={value}\n" for key, value in values.items()))
    return path


def connector(kind: str, file: Path) -> dict[str, str]:
    """Kafka's FileStream{kind}Connector on `file`."""
    return {
        "name": f"file-{kind.lower()}",
        "connector_class": f"org.apache.kafka.connect.file.FileStream{kind}Connector",
        "file": str(file),
    }


def test_file_source_and_sink_move_a_file_through_localbroker(
    java: JavaPrograms, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    source, sink, offsets = tmp_path / "in.txt", tmp_path / "out.txt", tmp_path / "offsets"
    first = "".join(f"line {i} of the file\n" for i in range(300))
    source.write_text(first)
    worker = properties(
        tmp_path / "worker.properties",
        bootstrap_servers=broker.bootstrap,
        key_converter="org.apache.kafka.connect.storage.StringConverter",
        value_converter="org.apache.kafka.connect.storage.StringConverter",
        offset_storage_file_filename=str(offsets),
        offset_flush_interval_ms="200",
        listeners="http://127.0.0.1:0",  # the REST API on a free port
        plugin_discovery="service_load",  # the connectors' manifests: no classpath scan
    )
    connectors = [
        properties(tmp_path / "source.properties", **connector("Source", source), topic=TOPIC),
        properties(tmp_path / "sink.properties", **connector("Sink", sink), topics=TOPIC),
    ]
    main = "org.apache.kafka.connect.cli.ConnectStandalone"
    arguments = [str(worker), *map(str, connectors)]
    with java.started(main, *arguments, log=tmp_path / "connect.log"):
        same = lambda: sink.exists() and sink.read_text() == source.read_text()  # noqa: E731
        wait_until(same, "the sink's file to equal the source's", TIMEOUT)
        with source.open("a") as appended:  # the source connector tails its file
            appended.write("".join(f"line {i} appended later\n" for i in range(300, 400)))
        wait_until(same, "the appended lines in the sink's file", TIMEOUT)
        position = f'{{"position":{source.stat().st_size}}}'.encode()
        wait_until(
            lambda: offsets.exists() and position in offsets.read_bytes(),
            "the source's offset, at the end of its file, in the offsets file",
            TIMEOUT,
        )
    assert sink.read_text().count("\n") == 400
