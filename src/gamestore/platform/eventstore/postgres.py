"""PostgreSQL event store (asyncpg): one round trip per append, gap-free global order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from gamestore.migrations import ensure_schema_at
from gamestore.platform.config import Settings
from gamestore.platform.eventstore.batching import AppendRequest, GroupCommitter
from gamestore.platform.eventstore.model import (
    DuplicateEventMismatch,
    RecordedEvent,
    WrongExpectedVersion,
)
from gamestore.platform.eventstore.sql import NAMES, Reads, SqlEventStore, record
from gamestore.platform.waiting import wait_event


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(_: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it is. asyncpg's default reset costs a round trip
    per use (``RESET ALL``, ``UNLISTEN *``, ``CLOSE ALL``, unlocking advisory locks); nothing
    here changes session state (the one ``LISTEN`` is on a connection of its own, advisory
    locks are transaction-scoped), and an unfinished transaction is still rolled back."""


def dsn(url: str) -> str:
    """asyncpg takes ``postgresql://``; accept SQLAlchemy-style ``postgresql+asyncpg://`` too."""
    head, rest = url.split("://", 1)
    return "postgresql://" + rest if head.startswith("postgres") else url


class PostgresEventStore(SqlEventStore):
    reads = Reads(lambda n: f"${n}")

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url  # the database, for components that keep tables next to the log
        self._listener: asyncpg.Connection | None = None
        self._wakeup = asyncio.Event()
        self._committer = GroupCommitter(self._append_group, max_in_flight=2)

    @classmethod
    async def connect(cls, url: str, *, pool_size: int | None = None) -> PostgresEventStore:
        """Open a pool of at most ``pool_size`` connections (``GAMESTORE_DB_POOL_SIZE``)."""
        if pool_size is None:
            pool_size = Settings().db_pool_size
        await ensure_schema_at(url, "eventstore")  # its migrations (src/gamestore/migrations)
        pool = await asyncpg.create_pool(
            dsn(url), min_size=1, max_size=pool_size, init=_init_connection, reset=_keep_session
        )
        return cls(pool, url)

    async def _append_group(self, group: list[AppendRequest]) -> None:
        """Write a group of appends in one call, one transaction; answer each request."""
        events = [(r, e) for r in group for e in r.events]
        rows = await self._pool.fetch(
            "SELECT * FROM es_append_many($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [r.stream_id for r in group],
            [r.expected for r in group],
            [len(r.events) for r in group],
            [e.event_id for _, e in events],
            [e.type for _, e in events],
            [dict(e.data) for _, e in events],
            [e.correlation_id or r.correlation_id for r, e in events],
            [e.causation_id for _, e in events],
            [e.traceparent for _, e in events],
        )
        answers: dict[int, list[asyncpg.Record]] = {}
        for row in rows:
            answers.setdefault(row["request"], []).append(row)
        for index, request in enumerate(group, start=1):
            _answer(request, answers[index])

    async def _rows(self, sql: str, params: list[object]) -> Iterable[Sequence[Any]]:
        rows: list[Sequence[Any]] = await self._pool.fetch(sql, *params)  # Records index too
        return rows

    async def head(self) -> int:
        value = await self._pool.fetchval("SELECT position FROM es_head WHERE id = 1")
        return int(value or 0)

    async def wait_for_events(self, after: int, timeout: float) -> bool:
        await self._listen()
        self._wakeup.clear()
        if await self.head() > after:
            return True
        await wait_event(self._wakeup, timeout)
        return await self.head() > after

    async def _listen(self) -> None:
        if self._listener is None or self._listener.is_closed():
            self._listener = await asyncpg.connect(dsn(self.url))
            await self._listener.add_listener("es_events", self._on_notify)

    def _on_notify(self, *_: Any) -> None:
        self._wakeup.set()

    async def load_checkpoint(self, name: str) -> int:
        value = await self._pool.fetchval(
            "SELECT position FROM es_checkpoints WHERE name = $1", name
        )
        return int(value or 0)

    async def save_checkpoint(self, name: str, position: int) -> None:
        await self._pool.execute(
            "INSERT INTO es_checkpoints (name, position) VALUES ($1, $2)"
            " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
            name,
            position,
        )

    async def close(self) -> None:
        await self._committer.close()
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        await self._pool.close()


def _answer(request: AppendRequest, rows: list[asyncpg.Record]) -> None:
    error = rows[0]["error"]
    if error == "conflict":
        request.fail(
            WrongExpectedVersion(request.stream_id, request.expected_version, rows[0]["actual"])
        )
    elif error == "duplicate":
        request.fail(DuplicateEventMismatch("some of the batch's event ids are already stored"))
    elif rows[0]["event_id"] is not None:  # already stored: the originals
        request.resolve([record([row[name] for name in NAMES]) for row in rows])
    else:
        request.resolve(
            [
                RecordedEvent(
                    position=row["position"],
                    event_id=event.event_id,
                    stream_id=request.stream_id,
                    version=row["version"],
                    type=event.type,
                    data=dict(event.data),
                    occurred_at=row["occurred_at"],
                    correlation_id=event.correlation_id or request.correlation_id,
                    causation_id=event.causation_id,
                    traceparent=event.traceparent,
                )
                for row, event in zip(rows, request.events, strict=True)
            ]
        )
