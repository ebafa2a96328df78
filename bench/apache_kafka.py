"""Apache Kafka, the reference broker, as a benchmark peer: single-node KRaft from Maven Central.

    with apache_kafka() as (bootstrap, process):
        ...

The classpath comes from `mvn dependency:build-classpath` over a three-line pom (offline
first, so a warm ~/.m2 needs no network); the broker is formatted and started as
KAFKA-NOTES.md describes, with Kafka's single-node settings, and is ready when it answers
ApiVersions. Needs Java 17 and Maven.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from peers import free_port

from localbroker.protocol.kafka_uuid import kafka_uuid_string

VERSION = "4.1.1"
START_TIMEOUT = 120.0
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.bench</groupId><artifactId>apache-kafka</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies><dependency>
    <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
    <version>{version}</version>
  </dependency></dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId>
    <version>3.8.1</version>
  </plugin></plugins></build>
</project>
"""


def classpath(version: str = VERSION) -> str:
    """The broker's jars, resolved by Maven (from ~/.m2 when it has them)."""
    with tempfile.TemporaryDirectory(prefix="kafka-cp-") as directory:
        (Path(directory) / "pom.xml").write_text(_POM.format(version=version))
        output = Path(directory) / "cp.txt"
        goal = ["dependency:build-classpath", f"-Dmdep.outputFile={output}", "-q"]
        for offline in (["-o"], []):
            result = subprocess.run(
                ["mvn", *offline, *goal], cwd=directory, capture_output=True, text=True
            )
            if result.returncode == 0:
                return output.read_text().strip()
        raise RuntimeError(f"Maven could not resolve Kafka {version}:\n{result.stdout[-2000:]}")


def _answers_api_versions(port: int) -> bool:
    request = struct.pack(">hhih", 18, 0, 1, 5) + b"bench"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            return len(sock.recv(64)) >= 10
    except OSError:
        return False


@contextlib.contextmanager
def apache_kafka(
    version: str = VERSION, heap: str = "1G"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A running single-node Kafka on free ports; stopped (and its data removed) at the end."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        raise RuntimeError("Apache Kafka needs java and mvn on PATH")
    jars = classpath(version)
    directory = Path(tempfile.mkdtemp(prefix="apache-kafka-"))
    port, controller = free_port(), free_port()
    properties = directory / "server.properties"
    properties.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller}",
                f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={directory / 'data'}",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "num.partitions=1",
            ]
        )
        + "\n"
    )
    java = ["java", f"-Xmx{heap}", f"-Xms{heap}", "-cp", jars]
    cluster_id = kafka_uuid_string(uuid.uuid4())
    subprocess.run(
        [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties)],
        check=True,
        capture_output=True,
    )
    process = subprocess.Popen(
        [*java, "kafka.Kafka", str(properties)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "KAFKA_HEAP_OPTS": f"-Xmx{heap}"},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_api_versions(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Apache Kafka did not start")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)
