"""Apache Kafka, the reference broker: obtained from Maven Central, run beside localbroker.

`kafka_classpath()` asks Maven (tests/reference/pom.xml, a pinned 4.x release) for the
classpath of the broker and its tools; Maven keeps the jars in ~/.m2, and the classpath is
cached under ~/.cache/kafka-workbench keyed by the pom's content, so a second run starts
without Maven. `ReferenceKafka` formats a single-node KRaft store (combined broker and
controller, internal topics with one replica, no initial rebalance delay) in a directory of
its own, starts the broker on free loopback ports, waits until it answers Metadata, and
always stops it. `run_kafka_tool` runs one of Kafka's command-line tools from the same
classpath, by its script's name (`kafka-topics`), as the script would run it.

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
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from waiting import wait_until
from wire import RawClient

from localbroker.lifeline import die_with_parent
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
TOOL_JVM_OPTIONS = ("-Xmx256M", "-XX:TieredStopAtLevel=1")
"""kafka-run-class.sh's heap for the tools; and only the quick compiler, since a tool lives for a
second or two: that halves a tool's start-up here (2.7 s to 1.3 s for kafka-topics --list)."""
TOOLS_LOG4J = """\
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
"""
"""config/tools-log4j2.yaml of Kafka's distribution, which the scripts use: warnings and errors
to stderr, one line a record. (Without it log4j2 prints errors on stdout, in its own format.)"""
SCRIPTS = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-configs": "kafka.admin.ConfigCommand",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
    "kafka-delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
    "kafka-log-dirs": "org.apache.kafka.tools.LogDirsCommand",
    "kafka-dump-log": "kafka.tools.DumpLogSegments",
    "kafka-leader-election": "org.apache.kafka.tools.LeaderElectionCommand",
    "kafka-reassign-partitions": "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
}
"""The main class behind each of Kafka's scripts (bin/<name>.sh), as Kafka 4.1 has them."""


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
    output = cached.with_suffix(f".{os.getpid()}.tmp")  # test workers may resolve at once
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


def answering_nodes(bootstrap: str) -> list[int]:
    """The node ids a broker at `bootstrap` names in a Metadata answer; none while it does not
    answer (also how bench/ times any broker's start-up, by the same yardstick)."""
    try:
        with RawClient(bootstrap, timeout=2.0) as client:
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
        return []
    return [broker.node_id for broker in metadata.brokers]


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
        # The log cleaner sleeps this long whenever it finds nothing to clean (15 s by
        # default), so a topic made compactable just then waited that long in a test.
        "log.cleaner.backoff.ms": "500",
        **overrides,
    }


def tool_output(classpath: str, main: str, *args: str) -> str:
    """The standard output of one of Kafka's main classes (StorageTool ...), bounded;
    ReferenceUnavailable with its errors if it fails."""
    result = subprocess.run(
        java(classpath, main, *args), capture_output=True, text=True, timeout=START_TIMEOUT
    )
    if result.returncode != 0:
        raise ReferenceUnavailable(f"{main} {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def random_cluster_id(classpath: str) -> str:
    """A new cluster id, as `kafka-storage random-uuid` prints it."""
    return tool_output(classpath, "kafka.tools.StorageTool", "random-uuid").split()[-1]


def tools_log4j() -> Path:
    """The tools' log4j2 configuration, as a file the JVM can read."""
    path = CACHE / "tools-log4j2.properties"
    if not path.exists() or path.read_text() != TOOLS_LOG4J:
        CACHE.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(TOOLS_LOG4J)
        temporary.replace(path)
    return path


KafkaTool = Callable[..., "subprocess.CompletedProcess[str]"]
"""run_kafka_tool with the classpath given: `kafka_tool("kafka-topics", [...], input=...)`."""


def run_kafka_tool(
    classpath: str,
    tool: str,
    args: Sequence[str],
    *,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """One of Kafka's tools, by script name (`kafka-topics`) or main class, run as its script
    runs it (kafka-run-class.sh's heap, tools-log4j2.yaml's logging).

    The classes a tool loads are kept in a class-data-sharing archive (AppCDS) after its first
    run, which halves the start-up of later runs here (2.2 s to 1.05 s for
    kafka-consumer-groups --describe on a busy machine); the JVM's own log is off, so an
    archive it cannot use (another JDK) costs time, never output."""
    main = SCRIPTS.get(tool, tool)
    key = hashlib.sha256(f"{classpath}|{main}".encode()).hexdigest()[:16]
    archive = CACHE / f"tool-{key}.jsa"
    if archive.exists():
        sharing = f"-XX:SharedArchiveFile={archive}"
        dumped = None
    else:  # this run writes the archive, under a name of its own, moved in place once whole
        dumped = archive.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        sharing = f"-XX:ArchiveClassesAtExit={dumped}"
    logging = f"-Dlog4j2.configurationFile={tools_log4j()}"
    command = ["java", *TOOL_JVM_OPTIONS, sharing, "-Xlog:disable", logging, "-cp", classpath]
    done = subprocess.run(
        [*command, main, *args], input=input, capture_output=True, text=True, timeout=timeout
    )
    if dumped is not None and dumped.exists():
        if done.returncode == 0:
            dumped.replace(archive)
        else:  # a refused command line loads too little to be worth keeping
            dumped.unlink()
    return done


class ReferenceKafka:
    """One Apache Kafka broker in its own JVM, on free loopback ports, in `directory`, with a
    PLAINTEXT listener and one more for each of `secured` (SASL_PLAINTEXT, SSL, SASL_SSL:
    their settings go in `overrides`). A node of a cluster (tests/reference_cluster.py) is
    given its controller's port and the cluster's id, and its node.id and voters in
    `overrides`."""

    def __init__(
        self,
        directory: Path,
        overrides: Mapping[str, str] | None = None,
        secured: Sequence[str] = (),
        *,
        controller_port: int = 0,
        cluster_id: str | None = None,
    ) -> None:
        self.directory = directory
        self.overrides = dict(overrides or {})
        self.secured = {name: 0 for name in secured}
        self.classpath = ""
        self.port = 0
        self.controller_port = controller_port
        self.cluster_id = cluster_id
        self.node_id = int(self.overrides.get("node.id", "1"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def bootstrap_for(self, listener: str) -> str:
        return self.bootstrap if listener == "PLAINTEXT" else f"127.0.0.1:{self.secured[listener]}"

    @property
    def log_file(self) -> Path:
        return self.directory / "server.log"

    @property
    def config(self) -> Path:
        return self.directory / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.directory / "log4j2.properties"

    def start(self) -> ReferenceKafka:
        return self.format().launch()

    def format(self) -> ReferenceKafka:
        """Choose the ports, write server.properties and format the KRaft store: all that comes
        before the broker's own JVM (bench/startup.py times `launch` alone)."""
        self.classpath = kafka_classpath()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.controller_port = self.controller_port or free_port()
        self.secured = {name: free_port() for name in self.secured}
        properties = server_properties(
            self.directory, self.port, self.controller_port, self.overrides, self.secured
        )
        self.config.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
        self.log4j.write_text(
            "rootLogger.level = WARN\nrootLogger.appenderRef.out.ref = out\n"
            "appender.out.type = Console\nappender.out.name = out\n"
            "appender.out.layout.type = PatternLayout\n"
            "appender.out.layout.pattern = [%d] %p %m (%c)%n\n"
        )
        cluster_id = self.cluster_id or random_cluster_id(self.classpath)
        tool_output(
            self.classpath,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.config),
        )
        return self

    def launch(self) -> ReferenceKafka:
        """Start the broker on the formatted store (again, after `stop`, on the same ports and
        log) and wait until it answers Metadata."""
        self.spawn()
        try:
            self.wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self) -> None:
        """Start the broker's JVM on the formatted store without waiting for it: a node of a
        cluster serves nothing until a majority of the quorum runs."""
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    "java",
                    HEAP,
                    f"-Dlog4j2.configurationFile={self.log4j}",
                    "-cp",
                    self.classpath,
                    "kafka.Kafka",
                    str(self.config),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # A pytest killed by SIGTERM runs no fixture teardown: without this the JVM
                # outlived it, holding its ports and a gigabyte (the thread that starts it
                # must live as long as the broker: the main thread, in the session fixture).
                preexec_fn=die_with_parent,
            )

    def wait_until_serving(self, timeout: float = START_TIMEOUT) -> None:
        """Until the broker answers Metadata naming itself; ReferenceUnavailable with its log's
        tail if its JVM exits meanwhile."""
        wait_until(self.serves_metadata, f"Apache Kafka node {self.node_id} to answer", timeout)

    def serves_metadata(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            tail = self.log_file.read_text(errors="replace")[-3000:]
            raise ReferenceUnavailable(
                f"Apache Kafka exited with {self.process.returncode}:\n{tail}"
            )
        return self.node_id in answering_nodes(self.bootstrap)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_group(process)

    def kill(self) -> None:
        """SIGKILL to the broker's JVM, waited for: a crash of the process (no shutdown hooks,
        no controlled shutdown; what it wrote stays in the page cache). `launch` starts it
        again on the same data."""
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)

    def run_tool(
        self, tool: str, args: Sequence[str], *, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """One of Kafka's tools (`kafka-topics`, `kafka.tools.DumpLogSegments` ...) from this
        broker's classpath; see run_kafka_tool."""
        return run_kafka_tool(self.classpath, tool, args, input=input, timeout=timeout)


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
