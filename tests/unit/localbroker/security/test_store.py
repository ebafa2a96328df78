"""The security store: SCRAM credentials and ACLs written before they take effect, and a file
that cannot be read refused with one line.

A write is made to fail as a full disk would fail it, without a disk: a directory stands
where `write_atomically` puts its temp file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localbroker.errors import KafkaError
from localbroker.files import DataDirError
from localbroker.log.dir_status import LogDirStatus
from localbroker.protocol.names import (
    AclOperation,
    AclPermissionType,
    AclResourceType,
    ErrorCode,
    PatternType,
    ScramMechanism,
)
from localbroker.security import credentials
from localbroker.security.acl_binding import AclBinding
from localbroker.security.acls import AclFilter, Authorizer
from localbroker.security.store import SECURITY_FILE, SecurityStore

SHA512 = ScramMechanism.SCRAM_SHA_512
EVERY_ACL = AclFilter(AclResourceType.ANY, None, PatternType.ANY, None, None, 1, 1)


def user(name: str) -> credentials.Upsertion:
    return credentials.Upsertion(name, SHA512, 4096, b"salt", b"x" * 64)


def topic_acl(name: str) -> AclBinding:
    return AclBinding(
        AclResourceType.TOPIC,
        name,
        PatternType.LITERAL,
        "User:alice",
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )


def open_store(data_dir: Path) -> SecurityStore:
    return SecurityStore(data_dir, LogDirStatus(data_dir))


def break_writes(data_dir: Path) -> None:
    (data_dir / f"{SECURITY_FILE}.tmp").mkdir()


def users(store: SecurityStore) -> list[str]:
    return [result.user for result in credentials.describe(store, None)]


def test_credentials_and_acls_survive_a_restart(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    assert credentials.alter(store, [], [user("alice")]) == [credentials.UserResult("alice")]
    assert Authorizer(store, True).create([topic_acl("orders")]) == [(ErrorCode.none, None)]
    again = open_store(tmp_path)
    assert again.credential("alice", SHA512) == store.credential("alice", SHA512) is not None
    assert again.acls == (topic_acl("orders"),)


def test_a_credential_change_that_cannot_be_written_is_refused_and_not_applied(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    credentials.alter(store, [], [user("kept")])
    break_writes(tmp_path)
    results = credentials.alter(store, [credentials.Deletion("kept", SHA512)], [user("lost")])
    assert {(r.user, r.error) for r in results} == {
        ("kept", ErrorCode.kafka_storage_error),
        ("lost", ErrorCode.kafka_storage_error),
    }
    assert all(f"Error while writing {tmp_path / SECURITY_FILE}" in r.message for r in results)
    assert users(store) == ["kept"]
    assert users(open_store(tmp_path)) == ["kept"]


def test_acl_changes_that_cannot_be_written_are_refused_and_not_applied(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    authorizer = Authorizer(store, True)
    authorizer.create([topic_acl("kept")])
    break_writes(tmp_path)
    invalid = AclBinding(
        AclResourceType.TOPIC,
        "",
        PatternType.LITERAL,
        "User:alice",
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )
    results = authorizer.create([topic_acl("lost"), invalid, topic_acl("kept")])
    assert [code for code, _ in results] == [
        ErrorCode.kafka_storage_error,
        ErrorCode.invalid_request,
        ErrorCode.kafka_storage_error,
    ]
    assert not authorizer.authorize(
        "User:alice", "h", AclOperation.READ, AclResourceType.TOPIC, "lost"
    )
    with pytest.raises(KafkaError) as refused:
        authorizer.delete([EVERY_ACL])
    assert refused.value.code == ErrorCode.kafka_storage_error
    assert authorizer.acls == open_store(tmp_path).acls == (topic_acl("kept"),)


def test_an_offline_log_directory_refuses_changes_without_writing(tmp_path: Path) -> None:
    status = LogDirStatus(tmp_path)
    store = SecurityStore(tmp_path, status)
    status.failed("an earlier write", OSError(28, "No space left on device"))
    [result] = credentials.alter(store, [], [user("alice")])
    assert (result.error, result.message) == (
        ErrorCode.kafka_storage_error,
        "The security metadata is in an offline log directory",
    )
    assert not (tmp_path / SECURITY_FILE).exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"\n", "the file is empty"),
        (b'{"scram_credentials": {"a": \xff}}', "it is not UTF-8 text"),
        (b'{"scram_credentials": ', "Expecting value: line 1 column 23 (char 22)"),
        (b"[1, 2]", "'list' object has no attribute 'get'"),
        (
            json.dumps({"scram_credentials": {"a": {"SCRAM-MD5": {}}}}).encode(),
            "unknown SCRAM mechanism 'SCRAM-MD5'",
        ),
        (json.dumps({"scram_credentials": {"a": {"SCRAM-SHA-512": {}}}}).encode(), "no 'salt'"),
        (json.dumps({"acls": [{"resource_type": 2}]}).encode(), "no 'resource_name'"),
        (
            json.dumps({"acls": [{**topic_acl("t").to_json(), "operation": 99}]}).encode(),
            "99 is not a valid AclOperation",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "not-utf8",
        "cut",
        "not-an-object",
        "mechanism",
        "credential",
        "acl",
        "operation",
    ],
)
def test_an_unreadable_file_is_refused_with_one_line(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / SECURITY_FILE
    path.write_bytes(content)
    with pytest.raises(DataDirError) as refused:
        open_store(tmp_path)
    assert str(refused.value) == (
        f"{path} is unreadable ({reason}); restore it from a backup, or move it away to start"
        " without SCRAM credentials and ACLs"
    )
