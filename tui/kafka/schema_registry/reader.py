"""A stream of records read through a registry: the decoder, and the client that feeds it.

The Tail pane and `kwb consume` read batches of records; before a batch is shown (or
printed), `SchemaReader.learn` asks the registry about the schema ids in it not seen yet, once
each, so that drawing and filtering decode without waiting on the network. The HTTP session
lives only while records flow (`close()` ends it), while what was learnt stays for the
records already held.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from ..tail import KEY, VALUE, RawRecord
from .client import RegistryClient, RegistryError
from .settings import RegistrySettings
from .wire import SchemaDecoder


class SchemaReader:
    """What `settings`' registry says about the schema ids of the records read."""

    def __init__(self, settings: RegistrySettings, *, console: bool = False) -> None:
        """`console`: decode as Confluent's console consumer prints (SchemaDecoder)."""
        self.settings = settings
        self.decoder = SchemaDecoder(console=console)
        self._client: RegistryClient | None = None

    async def learn(self, datas: Iterable[bytes | None]) -> RegistryError | None:
        """Learn the schemas of the framed keys and values among `datas` not known yet;
        why the registry stopped answering, if it just did (to say once, not per batch)."""
        wanted = self.decoder.to_learn(datas)
        if not wanted:
            return None
        if self._client is None:
            self._client = RegistryClient(self.settings)
        return await self.decoder.learn(self._client, sorted(wanted))

    async def learn_records(self, records: Sequence[RawRecord]) -> RegistryError | None:
        """`learn` for the keys and values of tailed records."""
        return await self.learn(_keys_and_values(records))

    async def close(self) -> None:
        """End the HTTP session (learning again opens another)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()


def _keys_and_values(records: Sequence[RawRecord]) -> Iterator[bytes | None]:
    for record in records:
        yield record[KEY]
        yield record[VALUE]


def reader_for(
    current: SchemaReader | None, settings: RegistrySettings | None
) -> SchemaReader | None:
    """The reader for `settings`: `current` while it reads the same registry (what it learnt
    stays good: ids never change meaning), a new one for another, None without a registry."""
    if settings is None:
        return None
    if current is not None and current.settings == settings:
        return current
    return SchemaReader(settings)
