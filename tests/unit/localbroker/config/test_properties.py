"""Java `.properties` parsing, as java.util.Properties.load reads Kafka's config files.

Each case is a line (or lines) a real server.properties or client.properties can contain,
with the key/value pairs Java would produce for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localbroker.config.properties import load_properties, parse_properties


@pytest.mark.parametrize(
    "line",
    [
        "num.partitions=3",
        "num.partitions = 3",
        "num.partitions:3",
        "num.partitions : 3",
        "num.partitions 3",
        "num.partitions\t\t3",
        "   num.partitions=3",
        "num.partitions   =   3",
        "num.partitions \t: 3",
    ],
)
def test_separators(line: str) -> None:
    """`=`, `:` or whitespace end the key; whitespace around the separator is dropped."""
    assert parse_properties(line) == {"num.partitions": "3"}


def test_only_the_first_separator_counts() -> None:
    assert parse_properties("a=b=c") == {"a": "b=c"}
    assert parse_properties("a:b:c") == {"a": "b:c"}
    assert parse_properties("a b c") == {"a": "b c"}
    assert parse_properties("a = =b") == {"a": "=b"}
    assert parse_properties("listeners=PLAINTEXT://:9092") == {"listeners": "PLAINTEXT://:9092"}


def test_keys_without_values() -> None:
    assert parse_properties("lonely") == {"lonely": ""}
    assert parse_properties("empty=") == {"empty": ""}
    assert parse_properties("spaced   ") == {"spaced": ""}


def test_comments_and_blank_lines() -> None:
    text = """
# The id of the broker.
! also a comment
   # an indented comment

node.id=1
log.dirs=/tmp/kafka#not-a-comment
"""
    assert parse_properties(text) == {"node.id": "1", "log.dirs": "/tmp/kafka#not-a-comment"}


def test_later_keys_win() -> None:
    assert parse_properties("a=1\na=2") == {"a": "2"}


def test_line_continuations() -> None:
    """A trailing backslash joins the next line, dropping that line's leading whitespace."""
    text = "listeners=PLAINTEXT://a:9092,\\\n      CONTROLLER://b:9093\nnext=1"
    assert parse_properties(text) == {
        "listeners": "PLAINTEXT://a:9092,CONTROLLER://b:9093",
        "next": "1",
    }


def test_continuation_lines_are_never_comments() -> None:
    assert parse_properties("a=b\\\n  #c") == {"a": "b#c"}


def test_comment_lines_do_not_continue() -> None:
    assert parse_properties("# comment \\\nkey=value") == {"key": "value"}


def test_continuation_at_the_end_of_the_text() -> None:
    assert parse_properties("a=b\\") == {"a": "b"}


def test_continuation_into_a_blank_line_ends_the_value() -> None:
    assert parse_properties("a=b\\\n\nc=d") == {"a": "b", "c": "d"}


def test_escaped_backslash_at_the_end_is_not_a_continuation() -> None:
    assert parse_properties("dir=C:\\\\\nnext=1") == {"dir": "C:\\", "next": "1"}


def test_three_backslashes_continue() -> None:
    assert parse_properties("a=x\\\\\\\n y") == {"a": "x\\y"}


def test_escapes() -> None:
    assert parse_properties(r"tab=a\tb") == {"tab": "a\tb"}
    assert parse_properties(r"nl=a\nb\rc\fd") == {"nl": "a\nb\rc\fd"}
    assert parse_properties(r"other=\q\:\=\#") == {"other": "q:=#"}
    assert parse_properties(r"path=C:\\kafka\\logs") == {"path": "C:\\kafka\\logs"}


def test_escaped_separators_in_keys() -> None:
    assert parse_properties(r"a\=b=c") == {"a=b": "c"}
    assert parse_properties(r"a\:b:c") == {"a:b": "c"}
    assert parse_properties(r"key\ with\ spaces = v") == {"key with spaces": "v"}


def test_key_ending_in_an_escaped_backslash() -> None:
    r"""`a\\=b` is the key `a\` and the value `b`: the second backslash is escaped, so the
    `=` after it is a separator (java.util.Properties counts preceding backslashes)."""
    assert parse_properties("a\\\\=b") == {"a\\": "b"}


def test_unicode_escapes() -> None:
    assert parse_properties(r"greeting=caf\u00e9 \u2603") == {"greeting": "café ☃"}
    assert parse_properties(r"\u006bey=v") == {"key": "v"}


def test_non_ascii_text_is_kept() -> None:
    assert parse_properties("client.id=Zürich-☃") == {"client.id": "Zürich-☃"}


def test_jaas_config_keeps_equals_signs_inside_quotes() -> None:
    line = (
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
        ' username="admin" password="s3cr=t==";'
    )
    assert parse_properties(line) == {
        "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required"
        ' username="admin" password="s3cr=t==";'
    }


def test_jaas_config_across_continuation_lines() -> None:
    text = (
        "listener.name.sasl_plaintext.plain.sasl.jaas.config="
        "org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
        '    username="admin" \\\n'
        '    password="a=b:c";\n'
    )
    assert parse_properties(text) == {
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="admin" password="a=b:c";'
        )
    }


def test_windows_line_endings() -> None:
    assert parse_properties("a=1\r\nb=2\r\n") == {"a": "1", "b": "2"}


def test_kafka_server_properties_excerpt(tmp_path: Path) -> None:
    path = tmp_path / "server.properties"
    path.write_text(
        "############################# Server Basics #############################\n"
        "process.roles=broker,controller\n"
        "node.id=1\n"
        "controller.quorum.bootstrap.servers=localhost:9093\n"
        "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
        "inter.broker.listener.name=PLAINTEXT\n"
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"
        "log.dirs=/tmp/kraft-combined-logs\n"
        "log.retention.hours=168\n",
        encoding="utf-8",
    )
    properties = load_properties(path)
    assert properties["listeners"] == "PLAINTEXT://:9092,CONTROLLER://:9093"
    assert properties["listener.security.protocol.map"] == (
        "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    )
    assert properties["log.retention.hours"] == "168"
    assert len(properties) == 8
