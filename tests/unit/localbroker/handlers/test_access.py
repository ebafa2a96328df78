"""The table of authorization rules (handlers/access.py) covers every API the broker serves,
and a handler cannot ask a question the table does not list."""

from __future__ import annotations

import pytest

from localbroker.handlers import HANDLERS
from localbroker.handlers.access import RULES, Scope, rule
from localbroker.protocol.names import SUPPORTED_OPERATIONS, AclOperation, AclResourceType, ApiKey


def test_every_served_api_has_its_rules() -> None:
    assert sorted(HANDLERS) == sorted(RULES)


def test_every_rule_names_an_operation_its_resource_supports() -> None:
    """(Not so for the cluster-wide grants: Kafka's DeleteTopics asks for DELETE on the cluster,
    which only ALL or a super user can give.)"""
    for api, rules in RULES.items():
        for r in rules:
            assert r.operation in SUPPORTED_OPERATIONS[r.resource_type], (api, r)


def test_a_question_the_table_does_not_list_is_refused() -> None:
    with pytest.raises(AssertionError, match="Fetch asks no such question"):
        rule(ApiKey.FETCH, AclResourceType.GROUP)
    with pytest.raises(AssertionError, match="Metadata asks no such question"):
        rule(ApiKey.METADATA, AclResourceType.TOPIC)  # two questions: the operation decides
    assert rule(ApiKey.METADATA, AclResourceType.TOPIC, AclOperation.CREATE).granted_by is (
        AclOperation.CREATE
    )
    assert rule(ApiKey.JOIN_GROUP, AclResourceType.GROUP).scope is Scope.REQUEST
