"""The workbench on a locked cluster: `kwb --bootstrap-server HOST:PORT --command-config
client.properties` against a localbroker's SASL_SSL listener with SCRAM-SHA-512 and
StandardAuthorizer, built by the same code `kwb` runs (tui.launch).

The Brokers pane shows the node at the listener's address and its configs, the Topics pane
lists what the user may describe (and not what it may not), and the password is nowhere on
the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from certificates import Certificates
from secured import SCRAM_PASSWORD, SCRAM_USER, add_scram_user, client_properties, sasl_config
from textual.widgets import DataTable
from wire import RawClient
from workbench_pilot import SIZE, wait_connected, wait_until

from localbroker.protocol.names import ApiKey, ErrorCode
from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.launch import open_workbench, parser
from tui.widgets.cluster_bar import ClusterBar
from tui.widgets.list_table import ListTable

pytestmark = pytest.mark.timeout(120)

SHOWN, HIDDEN = "visible-orders", "hidden-payroll"


def create_topics(bootstrap: str, *names: str) -> None:
    with RawClient(bootstrap) as admin:
        created = admin.call(
            ApiKey.CREATE_TOPICS,
            7,
            {"timeout": 10000, "validate_only": False, "topics": [
                {"name": name, "num_partitions": 1, "replication_factor": 1, "assignments": [],
                 "configs": []} for name in names]},
        )  # fmt: skip
        assert {t.error_code for t in created.topics} == {ErrorCode.none}


async def test_the_workbench_over_sasl_ssl_with_scram(
    start_broker: Callable[..., EmbeddedBroker], certificates: Certificates, tmp_path: Path
) -> None:
    broker = start_broker(
        sasl_config(
            "SASL_SSL",
            **{
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": str(certificates.server_keystore),
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users": "User:ANONYMOUS",
                "allow.everyone.if.no.acl.found": "false",
            },
        )
    )
    setup = broker.bootstrap_for("PLAINTEXT")
    add_scram_user(setup)
    create_topics(setup, SHOWN, HIDDEN)
    with RawClient(setup) as admin:
        granted = admin.call(ApiKey.CREATE_ACLS, 3, {"creations": [
            {"resource_type": 2, "resource_name": SHOWN, "resource_pattern_type": 3,
             "principal": f"User:{SCRAM_USER}", "host": "*", "operation": 8,
             "permission_type": 3},
            {"resource_type": 4, "resource_name": "kafka-cluster", "resource_pattern_type": 3,
             "principal": f"User:{SCRAM_USER}", "host": "*", "operation": 10,
             "permission_type": 3}]})  # fmt: skip
        assert [r.error_code for r in granted.results] == [ErrorCode.none] * 2
    bootstrap = broker.bootstrap_for("SASL_SSL")
    properties = client_properties(
        tmp_path / "client.properties", bootstrap, "SCRAM-SHA-512", "SASL_SSL",
        **{"ssl.truststore.type": "PEM", "ssl.truststore.location": str(certificates.ca)},
    )  # fmt: skip
    args = ["--bootstrap-server", bootstrap, "--command-config", str(properties)]
    app = WorkbenchApp(open_workbench(parser().parse_args(args)), watch_theme_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        assert app.snapshot is not None
        assert [f"{b.host}:{b.port}" for b in app.snapshot.cluster.brokers] == [bootstrap]
        configs = app.query_one("#broker-configs", DataTable)
        await wait_until(pilot, lambda: configs.row_count > 10, "the broker's configs")
        assert str(app.query_one(ClusterBar).query_one("#cluster-label").render()) == bootstrap
        screens = [app.export_screenshot()]

        await pilot.press("2")
        topics = app.query_one("#topic-list", ListTable)
        await wait_until(pilot, lambda: topics.row_count >= 1, "the topics alice may see")
        listed = set(topics.keys)
        assert SHOWN in listed and HIDDEN not in listed
        screens.append(app.export_screenshot())
        await pilot.press("q")
    for screen in screens:
        assert SCRAM_PASSWORD not in screen
