"""Form parts that offer the cluster's Schema Registry subjects in one or more Selects.

Hidden while the cluster has no registry; when it gets one (or another), the subjects are
fetched in a worker and every subject Select offers them, blank meaning "no schema"."""

from __future__ import annotations

from textual import work
from textual.containers import Vertical
from textual.widgets import Select

from ..kafka.schema_registry.client import RegistryError
from ..kafka.schema_registry.link import RegistryLink
from ..kafka.schema_registry.settings import RegistrySettings


class RegistrySubjects(Vertical):
    """The base of a form part: its subject Selects carry the class `subject`."""

    DEFAULT_CSS = """
    RegistrySubjects { height: auto; display: none; }
    RegistrySubjects.-registry { display: block; }
    """

    def __init__(self, widget_id: str, title: str) -> None:
        super().__init__(id=widget_id)
        self._title = title
        self._link = RegistryLink()
        self._settings: RegistrySettings | None = None
        self.subjects: list[str] = []

    async def on_unmount(self) -> None:
        await self._link.close()

    def connect(self, settings: RegistrySettings | None) -> None:
        """The cluster's registry (None: hidden, nothing chosen)."""
        if settings == self._settings:
            return
        self._settings = settings
        self.set_class(settings is not None, "-registry")
        self.subjects = []
        for select in self.query(".subject").results(Select):
            select.clear()
        self._load_subjects(settings)

    @work(group="registry-subjects", exclusive=True)
    async def _load_subjects(self, settings: RegistrySettings | None) -> None:
        try:
            self.subjects = await self._link.switch(settings)
        except RegistryError as exc:
            self.notify(f"schema registry: {exc}", title=self._title, severity="warning")
            return
        if not self.is_attached:  # the form went while the registry answered
            return
        for select in self.query(".subject").results(Select):
            select.set_options([(s, s) for s in self.subjects])
        self.subjects_shown()

    def subjects_shown(self) -> None:
        """The Selects offer the registry's subjects now (a default can be picked)."""
