"""The Java programs of tests/java (the Java client, Kafka Streams, Kafka Connect), built once
by Maven and run against localbroker and Apache Kafka.

`java_programs()` builds tests/java/pom.xml (`mvn -q -B package`: one jar plus a file with its
dependency classpath, the jars staying in ~/.m2) into ~/.cache/kafka-workbench, in a directory
named after a hash of the pom and the sources, so a session whose programs did not change
starts without Maven. `JavaPrograms.run` runs one program to its end and returns the JSON
lines it printed; `JavaPrograms.started` keeps one running (Connect) and kills it at the end,
whatever happens. `normalised` is the one place where what legitimately differs between two
brokers (cluster and topic ids, node ids, hosts and ports, member ids, paths, sizes) is
replaced by placeholders before results are compared.

Without Maven Central the tests that need these programs are skipped with the reason, unless
KWB_REQUIRE_KAFKA=1 (which .ci/run sets): then they fail.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reference_kafka import CACHE, ReferenceUnavailable, maven, stop_group

PROJECT = Path(__file__).resolve().parent / "java"
RUN_TIMEOUT = 180.0
"""Seconds one program may run: each takes a few on an idle machine; a loaded CI machine
starting several JVMs needs many more."""
TEST_TIMEOUT = 360
"""Seconds for a test of these programs, fixtures included (pytest's default is 120): the
first may build them and wait for the reference broker, and each runs one or two JVMs."""
JVM_OPTIONS = (
    "-Xmx512m",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
)
"""Short-lived test programs: the C1 compiler alone and the serial collector start faster and
take less of a 2-core machine than the defaults, which are tuned for long-running servers.
Kafka's logs (slf4j-simple, on stderr) from WARN up: what a failing test shows."""


def sources_digest() -> str:
    """A hash of the pom and every source file: the name of the build in the cache."""
    digest = hashlib.sha256()
    for path in sorted([PROJECT / "pom.xml", *(PROJECT / "src").rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(PROJECT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class JavaPrograms:
    """The built programs: their jar and its dependencies' classpath."""

    classpath: str

    def command(self, main: str, *args: str) -> list[str]:
        return ["java", *JVM_OPTIONS, "-cp", self.classpath, main, *args]

    def run(self, main: str, *args: str, timeout: float = RUN_TIMEOUT) -> list[dict[str, Any]]:
        """Runs `main` (`workbench.Clients` ...) to its end; its JSON lines. A failing or
        hanging program fails the test with the end of its stderr."""
        with self.started(main, *args, stdout=subprocess.PIPE) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                stderr = process.communicate()[1]
                raise AssertionError(
                    f"{main} {' '.join(args)} still running after {timeout:g} s:\n" + stderr[-4000:]
                ) from None
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        if process.returncode != 0:
            failed = [line for line in lines if line.get("event") == "failed"]
            raise AssertionError(
                f"{main} exited with {process.returncode}: {failed}\n{stderr[-4000:]}"
            )
        return lines

    @contextlib.contextmanager
    def started(
        self,
        main: str,
        *args: str,
        stdin: Any = None,
        stdout: Any = subprocess.DEVNULL,
        log: Path | None = None,
    ) -> Iterator[subprocess.Popen[str]]:
        """`main` running in a process group of its own, killed at the end whatever happens.
        Its stderr (Kafka's logs) goes to `log`, whose end a failing test then shows, or is
        kept for `run` to show."""
        with contextlib.ExitStack() as files:
            stderr: Any = files.enter_context(log.open("w")) if log else subprocess.PIPE
            process = subprocess.Popen(
                self.command(main, *args),
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
            try:
                yield process
            except AssertionError as failure:
                if log is None:
                    raise
                tail = log.read_text(errors="replace")[-4000:]
                raise AssertionError(f"{failure}\n{main}'s log ends with:\n{tail}") from failure
            finally:
                stop_group(process)
                for stream in (process.stdin, process.stdout, process.stderr):
                    if stream is not None:
                        stream.close()


def java_programs() -> JavaPrograms:
    """The programs from the cache, or built by Maven into it."""
    built = CACHE / f"java-programs-{sources_digest()}"
    if not (built / "classpath.txt").exists():
        _build(built)
    dependencies = (built / "classpath.txt").read_text().strip()
    if not all(Path(jar).exists() for jar in dependencies.split(os.pathsep)):
        shutil.rmtree(built)  # ~/.m2 was cleaned: resolve again
        _build(built)
        dependencies = (built / "classpath.txt").read_text().strip()
    return JavaPrograms(os.pathsep.join([str(built / "java-programs.jar"), dependencies]))


def _build(built: Path) -> None:
    """`mvn package` into a fresh directory beside `built`, renamed into place when complete,
    so an interrupted build or a concurrent session never leaves half a build in the cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    output = Path(tempfile.mkdtemp(prefix=f"{built.name}-", dir=CACHE))
    try:
        maven(
            PROJECT / "pom.xml",
            "package",
            f"-Doutput.directory={output}",
            failure="Maven could not build tests/java",
        )
    except ReferenceUnavailable:
        shutil.rmtree(output, ignore_errors=True)
        raise
    try:
        output.rename(built)
    except OSError:  # another session built it first
        shutil.rmtree(output, ignore_errors=True)


# ---- comparing two brokers ----------------------------------------------------------------

PLACEHOLDERS: Mapping[str, str] = {
    # ids each broker makes up
    "clusterId": "<cluster id>",
    "topicId": "<topic id>",
    "memberId": "<member id>",
    # where each broker listens and keeps its files
    "host": "<host>",
    "port": "<port>",
    "currentReplicaLogDir": "<log dir>",
    # bytes on disk depend on how the producer happened to batch
    "size": "<size>",
}
NODE_ID_KEYS = frozenset({"id", "controller", "leader", "replicas", "isr", "coordinator", "broker"})
"""Keys whose values are node ids: each broker's own id becomes "<node>"."""
_UUID_KEY = re.compile(r"^[A-Za-z0-9_-]{22}$")
"""A topic id as Kafka prints it (base64 of 16 bytes), when a map is keyed by topic ids."""


def normalised(value: Any, node_id: int) -> Any:
    """`value` (a program's parsed JSON) with what legitimately differs between two brokers
    replaced by placeholders: ids, hosts, ports, paths and sizes by key name; `node_id`, the
    broker's own node id, wherever a node id is expected (values of node-id keys, the name of
    the broker's config resource); maps keyed by topic id with their keys in the order of
    their (normalised) values, since the ids sort differently."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        broker = f"ConfigResource(type=BROKER, name='{node_id}')"
        for key, item in value.items():
            if key == broker:  # a map keyed by config resources
                result["ConfigResource(type=BROKER, name='<node>')"] = normalised(item, node_id)
            elif key in PLACEHOLDERS and item is not None:
                result[key] = PLACEHOLDERS[key]
            elif key in NODE_ID_KEYS:
                result[key] = _node(item, node_id)
            else:
                result[key] = normalised(item, node_id)
        if result and all(_UUID_KEY.match(key) for key in result):
            ordered = sorted(result.values(), key=lambda item: json.dumps(item, sort_keys=True))
            return {f"<topic id {i}>": item for i, item in enumerate(ordered)}
        return result
    if isinstance(value, list):
        return [normalised(item, node_id) for item in value]
    return value


def _node(value: Any, node_id: int) -> Any:
    if isinstance(value, list):
        return [_node(item, node_id) for item in value]
    return "<node>" if value == node_id else value


def split(value: Any, pattern: tuple[str, ...]) -> tuple[Any, list[Any]]:
    """`value` without what `pattern` names, and the values it named, in document order.

    A pattern is a path of keys matched at any depth: ("min.insync.replicas", "source") names
    the "source" of every "min.insync.replicas" entry wherever it is; ("elr",) every "elr"."""
    found: list[Any] = []

    def walk(item: Any) -> Any:
        if isinstance(item, list):
            return [walk(element) for element in item]
        if not isinstance(item, dict):
            return item
        result = {}
        for key, element in item.items():
            if key == pattern[0] and len(pattern) == 1:
                found.append(element)
            elif key == pattern[0] and isinstance(element, dict):
                inner, deeper = split(element, pattern[1:])
                found.extend(deeper)
                result[key] = walk(inner)
            else:
                result[key] = walk(element)
        return result

    return walk(value), found
