"""`kwb demo failover`: the workbench on a local three-broker cluster, telling the story of a
partition leader that dies while a producer (acks=all) and a consumer keep running.

The steps (played by tui/story.py) create a topic whose one partition has three replicas and
min.insync.replicas=2, start the clients, kill the leader with SIGKILL, wait for the
controller to fence it and elect a new leader from the ISR, show that the producer's retries
went through and the consumer carried on, start the killed broker again until it is back in
the ISR, give the partition back to its preferred replica (ElectLeaders PREFERRED: the killed
broker, when it led at the start; Kafka's controller would do it by itself only every
leader.imbalance.check.interval.seconds, 300 s), then stop the producer and count, by record
id, the acknowledged records the consumer never read: none. Written for someone
who has never used Kafka: every caption names the thing on screen it is about.
"""

from __future__ import annotations

from .demo_app import DemoApp
from .kafka.errors import KafkaToolError
from .kafka.failover_demo import FailoverDemo, FailoverSettings
from .local_cluster import LocalCluster
from .story import Step
from .widgets.failover_pane import FailoverPane
from .widgets.pane import PaneSpec

FAILOVER_PANE = PaneSpec("failover", "Failover", "0", FailoverPane)


def story(settings: FailoverSettings) -> list[Step[FailoverDemo]]:
    seconds = f"{settings.broker_session_timeout_ms / 1000:g}"
    return [
        Step(
            "Three brokers (nodes 0, 1 and 2) form one cluster. Topic"
            f" {settings.topic} has one partition with {settings.replication_factor} replicas,"
            " one per broker: the leader takes every write, the followers copy it. The replicas"
            " that are up to date are the ISR (in-sync replicas).",
            until=FailoverDemo.fully_replicated,
        ),
        Step(
            "A producer with acks=all sends numbered records: the leader acknowledges a record"
            " only once every replica in the ISR has it, and refuses writes if fewer than"
            f" min.insync.replicas ({settings.min_insync_replicas}) are in sync. A consumer in"
            f" group {settings.group_id} reads them.",
            until=FailoverDemo.flowing,
        ),
        Step(
            "The leader is killed with SIGKILL: no goodbye. The producer's requests to it fail"
            " and it retries them (see retries); the consumer gets nothing new. The controller"
            f" waits broker.session.timeout.ms ({seconds} s) for a heartbeat before it gives"
            " up on the broker.",
            FailoverDemo.kill_leader,
        ),
        Step(
            "The controller fences the dead broker: it leaves Metadata, a follower from the ISR"
            " becomes the leader, and the ISR shrinks to the two survivors. The producer finds"
            " the new leader and its retries succeed. (Was the dead broker also the active"
            " controller? Then the others first elect a new one, which gives every broker a"
            " whole session from then.)",
            until=FailoverDemo.failed_over,
        ),
        Step(
            "The consumer carries on from its group's committed offset. The new leader has every"
            " acknowledged record: acks=all waited for the whole ISR, and only a replica of the"
            " ISR may become leader.",
            until=FailoverDemo.consumed_after_kill,
        ),
        Step(
            "The killed broker starts again on its data. It drops any record the cluster never"
            " acknowledged, fetches what it missed from the new leader, and rejoins the ISR"
            " once it has caught up.",
            FailoverDemo.restart_killed,
            FailoverDemo.rejoined,
        ),
        Step(
            "Leadership goes back to the preferred replica: the first in the partition's"
            " replica list, the killed broker if it led at the start. The controller would move"
            " it back by itself after leader.imbalance.check.interval.seconds (300 s); here the"
            " workbench asks now (ElectLeaders PREFERRED, as kafka-leader-election.sh does). If"
            " the preferred replica leads already, no election is needed.",
            FailoverDemo.elect_preferred,
            FailoverDemo.preferred_leads,
        ),
        Step(
            "The producer stops. Once the consumer has read what there is, the ids it read are"
            " checked against the ids the cluster acknowledged: lost counts those never read.",
            FailoverDemo.finish,
        ),
        Step(
            "That is failover: a replica from the ISR takes over, clients retry and carry on,"
            " and acks=all means an acknowledged record survives its leader. Press q to quit.",
        ),
    ]


class FailoverDemoApp(DemoApp[FailoverDemo, FailoverSettings]):
    """The workbench on its own local cluster (a LocalCluster, whose nodes the story kills and
    starts), opening on the Failover pane and playing `story()`. The other panes are there
    too (1 the Brokers pane, ...); 0 comes back."""

    DEMO_PANE = FAILOVER_PANE.pane_id

    def pane_list(self) -> list[PaneSpec]:
        return [FAILOVER_PANE, *super().pane_list()]

    def on_mount(self) -> None:
        super().on_mount()
        self.run_worker(self._play(), group="demo-story", exclusive=True)

    def show_caption(self, caption: str) -> None:
        pane = self.query_one(FailoverPane)
        pane.caption = caption
        pane.changed_cluster()

    async def _play(self) -> None:
        pane = self.query_one(FailoverPane)
        cluster = self.workbench.embedded
        if not isinstance(cluster, LocalCluster):
            raise TypeError("kwb demo failover runs on a cluster of its own (a LocalCluster)")
        demo = FailoverDemo(self.workbench.connection, cluster, self.demo_settings)
        pane.engine = demo
        try:
            await demo.start()
        except KafkaToolError as exc:
            self.notify(f"cannot start the demo: {exc}", title="Demo", severity="error")
            pane.caption = "The demo could not start (see the message). Press q to quit."
            return
        await self.tell(demo, story(self.demo_settings))
