"""The panes of the workbench, in tab order, with the key that jumps to each."""

from __future__ import annotations

from .widgets.brokers_pane import BrokersPane
from .widgets.demo_pane import DemoPane
from .widgets.generator_pane import GeneratorPane
from .widgets.groups_pane import GroupsPane
from .widgets.pane import PaneSpec
from .widgets.produce_pane import ProducePane
from .widgets.schemas_pane import SchemasPane
from .widgets.search_pane import SearchPane
from .widgets.tail_pane import TailPane
from .widgets.topics_pane import TopicsPane


def panes() -> list[PaneSpec]:
    return [
        PaneSpec("brokers", "Brokers", "1", BrokersPane),
        PaneSpec("topics", "Topics", "2", TopicsPane),
        PaneSpec("tail", "Tail", "3", TailPane),
        PaneSpec("produce", "Produce", "4", ProducePane),
        PaneSpec("groups", "Groups", "5", GroupsPane),
        PaneSpec("generator", "Generator", "6", GeneratorPane),
        PaneSpec("demo", "Demo", "7", DemoPane),
        PaneSpec("search", "Search", "8", SearchPane),
        PaneSpec("schemas", "Schemas", "9", SchemasPane),
    ]


def pane_named(specs: list[PaneSpec], name: str) -> PaneSpec | None:
    """The pane `name` names (`:name`): its key, or a prefix of its id or title, any case."""
    wanted = name.lower()
    return next(
        (
            s
            for s in specs
            if wanted == s.key or s.pane_id.startswith(wanted) or s.title.lower().startswith(wanted)
        ),
        None,
    )
