"""Principals from client certificates: the subject in RFC 2253 form, through
ssl.principal.mapping.rules as Kafka's SslPrincipalMapper applies them."""

from __future__ import annotations

import pytest

from localbroker.errors import KafkaError
from localbroker.security.principal import PrincipalMapper, distinguished_name

SUBJECT = {"subject": ((("countryName", "US"),), (("organizationName", "Ex, Inc"),),
                       (("commonName", "alice"),))}  # fmt: skip


def test_the_subject_is_written_as_java_writes_it() -> None:
    assert distinguished_name(SUBJECT) == "CN=alice,O=Ex\\, Inc,C=US"


def test_default_rules_keep_the_whole_name() -> None:
    assert PrincipalMapper("DEFAULT").principal("CN=alice,O=Ex") == "User:CN=alice,O=Ex"


def test_rules_apply_in_order_with_case_folding() -> None:
    mapper = PrincipalMapper("RULE:^CN=(.*?),O=(.*)$/$1@$2/L, DEFAULT")
    assert mapper.principal("CN=Alice,O=Ex") == "User:alice@ex"
    assert mapper.principal("OU=x") == "User:OU=x"
    assert PrincipalMapper("RULE:^CN=(.*?),.*$/$1/").principal("OU=x") is None


def test_a_rule_that_is_not_one_stops_start_up() -> None:
    with pytest.raises(KafkaError, match=r"ssl\.principal\.mapping\.rules"):
        PrincipalMapper("garbage")
