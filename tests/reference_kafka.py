"""Apache Kafka, the reference broker: obtained from Maven Central, run beside localbroker.

`kafka_classpath()` asks Maven (tests/reference/pom.xml, a pinned 4.x release) for the
classpath of the broker and its tools; Maven keeps the jars in ~/.m2, and the classpath is
cached under ~/.cache/kafka-workbench keyed by the pom's content, so a second run starts
without Maven. `ReferenceKafka` formats a single-node KRaft store (combined broker and
controller, internal topics with one replica, no initial rebalance delay) in a directory of
its own, starts the broker on free loopback ports, waits until it answers Metadata, and
always stops it. `run_tool` runs one of Kafka's command-line tools from the same classpath.

When Maven Central cannot be reached, tests that need the reference are skipped with the
reason, unless KWB_REQUIRE_KAFKA=1 (which .ci/run sets): then they fail.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from waiting import wait_until
from wire import RawClient

from localbroker.protocol.names import ApiKey

POM = Path(__file__).resolve().parent / "reference" / "pom.xml"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kafka-workbench"
REQUIRED = "KWB_REQUIRE_KAFKA"
START_TIMEOUT = 90.0
"""Seconds for the JVM to start, format nothing more and answer Metadata: a few on an idle
2-core machine, much more on a loaded CI machine."""
STOP_TIMEOUT = 30.0
MAVEN_TIMEOUT = 600.0
HEAP = "-Xmx1G"
"""kafka-server-start.sh's default heap."""


class ReferenceUnavailable(Exception):
    """Apache Kafka could not be obtained (no Maven, no network) or did not start."""


def required() -> bool:
    return os.environ.get(REQUIRED) == "1"


def unavailable(exc: Exception, what: str = "the reference Apache Kafka") -> NoReturn:
    """Skip a test that needs `what` (Apache Kafka, or programs built against it), loudly, or
    fail it when KWB_REQUIRE_KAFKA=1 (CI)."""
    import pytest  # here: bench/ uses this module without pytest

    if required():
        pytest.fail(f"{REQUIRED}=1 but {what} is not available: {exc}")
    pytest.skip(
        f"NOT RUN: {what} is not available ({exc}); it needs Java 17 and Maven reaching"
        " Maven Central"
    )


def kafka_version() -> str:
    text = POM.read_text()
    start = text.index("<kafka.version>") + len("<kafka.version>")
    return text[start : text.index("</kafka.version>", start)]


def kafka_classpath() -> str:
    """The broker's and tools' classpath, from the cache or from Maven."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:16]
    cached = CACHE / f"reference-kafka-{digest}.classpath"
    if cached.exists():
        classpath = cached.read_text().strip()
        if all(Path(jar).exists() for jar in classpath.split(os.pathsep)):
            return classpath
    CACHE.mkdir(parents=True, exist_ok=True)
    output = cached.with_suffix(".tmp")
    failure = "Maven could not fetch Apache Kafka from Maven Central"
    maven(POM, "dependency:build-classpath", f"-Dmdep.outputFile={output}", failure=failure)
    if not output.exists():
        raise ReferenceUnavailable(f"{failure}: no classpath written")
    output.replace(cached)
    return cached.read_text().strip()


def maven(pom: Path, *arguments: str, failure: str) -> None:
    """`mvn -q -B -f pom arguments...`; ReferenceUnavailable with `failure` and Maven's last
    lines if it cannot run or fails (no Maven, no network)."""
    try:
        result = subprocess.run(
            ["mvn", "-q", "-B", "-f", str(pom), *arguments],
            capture_output=True,
            text=True,
            timeout=MAVEN_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReferenceUnavailable(f"Maven could not run: {exc}") from None
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-10:]
        raise ReferenceUnavailable(f"{failure}: " + " | ".join(tail))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_group(process: subprocess.Popen[Any]) -> None:
    """SIGTERM to the process's group (a controlled shutdown: the JVM runs its shutdown hooks),
    SIGKILL if it does not go in time."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


def java(classpath: str, main: str, *args: str, heap: str | None = None) -> list[str]:
    """The command that runs `main` from `classpath`."""
    options = [heap] if heap else []
    return ["java", *options, "-cp", classpath, main, *args]


def server_properties(
    data_dir: Path,
    port: int,
    controller_port: int,
    overrides: Mapping[str, str],
    secured: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """Single-node KRaft in combined mode, as KAFKA-NOTES.md and Kafka's quickstart have it;
    `secured` adds listeners named after their security protocol (SASL_SSL -> port). The
    controller's listener stays PLAINTEXT."""
    brokers = {"PLAINTEXT": port, **(secured or {})}
    endpoints = ",".join(f"{name}://127.0.0.1:{at}" for name, at in brokers.items())
    protocols = ",".join(f"{name}:{name}" for name in brokers)
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"{endpoints},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": endpoints,
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": f"{protocols},CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir / "logs"),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        **overrides,
    }


class ReferenceKafka:
    """One Apache Kafka broker in its own JVM, on free loopback ports, in `directory`, with a
    PLAINTEXT listener and one more for each of `secured` (SASL_PLAINTEXT, SSL, SASL_SSL:
    their settings go in `overrides`)."""

    def __init__(
        self,
        directory: Path,
        overrides: Mapping[str, str] | None = None,
        secured: Sequence[str] = (),
    ) -> None:
        self.directory = directory
        self.overrides = dict(overrides or {})
        self.secured = {name: 0 for name in secured}
        self.classpath = ""
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def bootstrap_for(self, listener: str) -> str:
        return self.bootstrap if listener == "PLAINTEXT" else f"127.0.0.1:{self.secured[listener]}"

    @property
    def log_file(self) -> Path:
        return self.directory / "server.log"

    def start(self) -> ReferenceKafka:
        self.classpath = kafka_classpath()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port, controller = free_port(), free_port()
        self.secured = {name: free_port() for name in self.secured}
        config = self.directory / "server.properties"
        properties = server_properties(
            self.directory, self.port, controller, self.overrides, self.secured
        )
        config.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
        log4j = self.directory / "log4j2.properties"
        log4j.write_text(
            "rootLogger.level = WARN\nrootLogger.appenderRef.out.ref = out\n"
            "appender.out.type = Console\nappender.out.name = out\n"
            "appender.out.layout.type = PatternLayout\n"
            "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
        )
        cluster_id = self._tool_output("kafka.tools.StorageTool", "random-uuid").split()[-1]
        self._tool_output("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config))
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    "java",
                    HEAP,
                    f"-Dlog4j2.configurationFile={log4j}",
                    "-cp",
                    self.classpath,
                    "kafka.Kafka",
                    str(config),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until(self._serves_metadata, "Apache Kafka to answer Metadata", START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def _tool_output(self, main: str, *args: str) -> str:
        result = subprocess.run(
            java(self.classpath, main, *args),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
        if result.returncode != 0:
            raise ReferenceUnavailable(f"{main} {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout

    def _serves_metadata(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            tail = self.log_file.read_text(errors="replace")[-3000:]
            raise ReferenceUnavailable(
                f"Apache Kafka exited with {self.process.returncode}:\n{tail}"
            )
        try:
            with RawClient(self.bootstrap, timeout=2.0) as client:
                metadata = client.call(
                    ApiKey.METADATA,
                    12,
                    {
                        "topics": [],
                        "allow_auto_topic_creation": False,
                        "include_topic_authorized_operations": False,
                    },
                )
        except OSError:
            return False
        return any(broker.node_id == 1 for broker in metadata.brokers)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_group(process)

    def run_tool(
        self, main: str, args: Sequence[str], *, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """One of Kafka's tools (`org.apache.kafka.tools.TopicCommand` ...) from this broker's
        classpath, as its `.sh` wrapper runs it."""
        return run_tool(self.classpath, main, args, input=input, timeout=timeout)


def run_tool(
    classpath: str,
    main: str,
    args: Sequence[str],
    *,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """One of Kafka's tools from `classpath`, against any broker (localbroker too)."""
    return subprocess.run(
        java(classpath, main, *args), input=input, capture_output=True, text=True, timeout=timeout
    )


@contextlib.contextmanager
def reference_kafka(
    directory: Path, overrides: Mapping[str, str] | None = None, secured: Sequence[str] = ()
) -> Iterator[ReferenceKafka]:
    """A running Apache Kafka, stopped at the end whatever happens."""
    kafka = ReferenceKafka(directory, overrides, secured).start()
    try:
        yield kafka
    finally:
        kafka.stop()
