"""Kafka error codes become one readable line, including codes the client doesn't know."""

from __future__ import annotations

import pytest
from kio.schema.errors import ErrorCode

from tui.kafka.errors import KafkaToolError, raise_for
from tui.kafka.java_errors import java_exception


def test_none_is_not_an_error() -> None:
    raise_for(0, None, "topic orders")


def test_a_known_code_names_the_error_and_keeps_the_brokers_message() -> None:
    with pytest.raises(KafkaToolError) as failure:
        raise_for(ErrorCode.invalid_partitions, "6 would not be an increase", "topic orders")
    assert str(failure.value) == "topic orders: INVALID_PARTITIONS: 6 would not be an increase"
    assert failure.value.code == ErrorCode.invalid_partitions


def test_a_code_newer_than_the_client_is_still_one_line() -> None:
    with pytest.raises(KafkaToolError, match=r"^topic orders: error code 9999: try later$"):
        raise_for(9999, "try later", "topic orders")


def test_without_a_message_kafkas_default_message_and_java_exception() -> None:
    """What Kafka's tools print of a failure: the client's exception, with the broker's
    message or Kafka's default one."""
    with pytest.raises(KafkaToolError) as failure:
        raise_for(ErrorCode.non_empty_group, None, "group g")
    assert failure.value.detail == "The group is not empty."
    assert failure.value.java == (
        "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty."
    )


def test_every_error_code_has_kafkas_exception() -> None:
    for code in ErrorCode:
        if code != ErrorCode.none:
            assert java_exception(code).startswith("org.apache.kafka.common."), code
    assert java_exception(ErrorCode.invalid_record) == (
        "org.apache.kafka.common.InvalidRecordException: This record has failed the validation"
        " on broker and hence will be rejected."
    )
