"""What both SQL event stores share: the ``es_events`` column list, a row as a
:class:`RecordedEvent`, the read queries over each engine's placeholders, and the port's
reads and group-committed append."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from gamestore.platform.eventstore.batching import AppendRequest, GroupCommitter
from gamestore.platform.eventstore.model import (
    ANY,
    NO_BOUND,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
)
from gamestore.platform.metrics import EVENTSTORE_APPEND_DURATION

# The only text interpolated into SQL here (hence the `nosec B608`s): this constant column
# list and the engine's placeholders; every value is a bound parameter.
NAMES = (
    "position",
    "event_id",
    "stream_id",
    "version",
    "type",
    "data",
    "occurred_at",
    "correlation_id",
    "causation_id",
    "traceparent",
)
COLUMNS = ", ".join(NAMES)

Query = tuple[str, list[object]]
"""SQL and its parameters, in placeholder order."""


def record(row: Sequence[Any]) -> RecordedEvent:
    """The event a row of :data:`COLUMNS`, in that order, holds. SQLite gives the id, data
    and time as text, PostgreSQL as ``uuid``, ``jsonb`` (decoded) and ``timestamptz``: both
    are accepted."""
    event_id, data, occurred_at = row[1], row[5], row[6]
    return RecordedEvent(
        position=row[0],
        event_id=event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(event_id),
        stream_id=row[2],
        version=row[3],
        type=row[4],
        data=json.loads(data) if isinstance(data, str) else data,
        occurred_at=(
            occurred_at
            if isinstance(occurred_at, datetime)
            else datetime.fromisoformat(occurred_at)
        ),
        correlation_id=row[7],
        causation_id=row[8],
        traceparent=row[9],
    )


class Reads:
    """The read queries of the port, spelled with one engine's placeholders: ``mark(n)`` is the
    n-th (from 1), ``?`` for SQLite, ``$n`` for PostgreSQL."""

    def __init__(self, mark: Callable[[int], str]) -> None:
        self._mark = mark

    def forwards(self, after: int, limit: int, types: Sequence[str] | None) -> Query:
        return self._page("position >", after, limit, types, "position")

    def backwards(self, before: int | None, limit: int, types: Sequence[str] | None) -> Query:
        below = NO_BOUND if before is None else before
        return self._page("position <", below, limit, types, "position DESC")

    def stream(self, stream_id: str, from_version: int) -> Query:
        where = f"stream_id = {self._mark(1)} AND version >= {self._mark(2)}"
        return self._select(where, "version"), [stream_id, from_version]

    def correlation(self, correlation: str) -> Query:
        return self._select(f"correlation_id = {self._mark(1)}", "position"), [correlation]

    def _page(
        self, bound: str, position: int, limit: int, types: Sequence[str] | None, order: str
    ) -> Query:
        params: list[object] = [position, *(types or ())]
        where = f"{bound} {self._mark(1)}"
        if types:
            marks = ", ".join(self._mark(n) for n in range(2, len(params) + 1))
            where += f" AND type IN ({marks})"
        params.append(limit)
        return f"{self._select(where, order)} LIMIT {self._mark(len(params))}", params

    @staticmethod
    def _select(where: str, order: str) -> str:
        return f"SELECT {COLUMNS} FROM es_events WHERE {where} ORDER BY {order}"  # nosec B608


class SqlEventStore:
    """The reads and the append of an SQL event store: an adapter says how it spells
    placeholders (``reads``), how it runs a query (``_rows``) and how it writes a group of
    appends (the ``GroupCommitter`` it sets as ``_committer``)."""

    reads: Reads
    _committer: GroupCommitter

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> list[RecordedEvent]:
        with EVENTSTORE_APPEND_DURATION.time():  # the wait for a group commit included
            return await self._committer.submit(
                AppendRequest.of(stream_id, events, expected_version)
            )

    async def _rows(self, sql: str, params: list[object]) -> Iterable[Sequence[Any]]:
        raise NotImplementedError

    async def read_all(
        self, after: int = 0, limit: int = 1000, *, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        return await self._read(self.reads.forwards(after, limit, types))

    async def read_all_backwards(
        self, before: int | None = None, limit: int = 1000, *, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        return await self._read(self.reads.backwards(before, limit, types))

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return await self._read(self.reads.stream(stream_id, from_version))

    async def read_correlation(self, correlation: str) -> list[RecordedEvent]:
        return await self._read(self.reads.correlation(correlation))

    async def _read(self, query: Query) -> list[RecordedEvent]:
        return [record(row) for row in await self._rows(*query)]
