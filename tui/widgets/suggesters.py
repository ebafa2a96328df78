"""Completions for text fields: topic names from the cluster, paths from the file system.

Textual shows a suggestion greyed after the cursor and → accepts it, so a newcomer types the
first letters of a topic or a path and gets the rest without knowing the exact name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from textual.suggester import Suggester


class TopicSuggester(Suggester):
    """Completes a topic name from the cluster's topics (internal ones once `_` is typed)."""

    def __init__(self, topics: Callable[[], Iterable[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._topics = topics

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        for name in sorted(self._topics()):
            if name.startswith(value) and name != value:
                if name.startswith("_") and not value.startswith("_"):
                    continue
                return name
        return None


class PathSuggester(Suggester):
    """Completes a file path from what is in the directory typed so far (hidden files only
    once `.` is typed; a directory comes with its trailing separator)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        directory, _, prefix = os.path.expanduser(value).rpartition(os.sep)
        try:
            names = sorted(
                os.listdir(directory + os.sep if directory or value[0] == os.sep else ".")
            )
        except OSError:
            return None
        for name in names:
            if name.startswith(prefix) and name != prefix:
                if name.startswith(".") and not prefix.startswith("."):
                    continue
                rest = name[len(prefix) :]
                full = os.path.join(directory, name) if directory else name
                return value + rest + (os.sep if os.path.isdir(full) else "")
        return None
