"""SQLite event store: a single file in WAL mode, shared by every local process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from typing import Any

import inline_sqlite
from gamestore.migrations import ensure_schema_at
from gamestore.platform.clock import utcnow
from gamestore.platform.config import sqlite_path
from gamestore.platform.eventstore.batching import AppendRequest, GroupCommitter
from gamestore.platform.eventstore.model import (
    DuplicateEventMismatch,
    RecordedEvent,
    WrongExpectedVersion,
)
from gamestore.platform.eventstore.sql import COLUMNS, Reads, SqlEventStore, record
from gamestore.platform.waiting import wait_event

POLL_INTERVAL = 0.02  # seconds between looks at the head while waiting for new events


async def open_sqlite(url: str) -> inline_sqlite.Connection:
    """Open an SQLite database for many processes: WAL, autocommit; a lock held elsewhere is
    waited for up to 30 s, asynchronously (``inline_sqlite``)."""
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await inline_sqlite.connect(path, timeout=30)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _new_records(request: AppendRequest, last_position: int, version: int) -> list[RecordedEvent]:
    now = utcnow()
    return [
        RecordedEvent(
            position=last_position + i,
            event_id=e.event_id,
            stream_id=request.stream_id,
            version=version + i,
            type=e.type,
            data=dict(e.data),
            occurred_at=now,
            correlation_id=e.correlation_id or request.correlation_id,
            causation_id=e.causation_id,
            traceparent=e.traceparent,
        )
        for i, e in enumerate(request.events, start=1)
    ]


async def _fetchone(
    conn: inline_sqlite.Connection, sql: str, params: Sequence[object]
) -> inline_sqlite.Row:
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return row


class SqliteEventStore(SqlEventStore):
    reads = Reads(lambda _: "?")

    def __init__(
        self,
        writer: inline_sqlite.Connection,
        reader: inline_sqlite.Connection,
        url: str,
    ) -> None:
        # Two connections: reads never run inside a half-done write transaction (they would
        # see events that may yet roll back), and writes are serialized by one lock.
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self.url = url  # the database, for components that keep tables next to the log
        self._committer = GroupCommitter(self._append_group)
        # However many wait for news in this process, one task looks at the head.
        self._head_seen = 0
        self._news = asyncio.Event()
        self._waiting = 0
        self._watcher: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str) -> SqliteEventStore:
        await ensure_schema_at(url, "eventstore")  # its migrations (src/gamestore/migrations)
        writer = await open_sqlite(url)
        return cls(writer, await open_sqlite(url), url)

    async def _append_group(self, group: list[AppendRequest]) -> None:
        """One BEGIN IMMEDIATE transaction for the whole group; each request answered alone."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                answers = [await self._append_one(request) for request in group]
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")
        for request, answer in zip(group, answers, strict=True):
            if isinstance(answer, Exception):
                request.fail(answer)
            else:
                request.resolve(answer)
                self._saw_head(max((e.position for e in answer), default=0))

    async def _append_one(self, request: AppendRequest) -> list[RecordedEvent] | Exception:
        ids = [str(e.event_id) for e in request.events]
        marks = ",".join("?" * len(ids))
        rows = list(
            await self._writer.execute_fetchall(
                f"SELECT {COLUMNS} FROM es_events WHERE event_id IN ({marks})",  # nosec B608
                ids,
            )
        )
        if rows:
            if len(rows) != len(ids):
                return DuplicateEventMismatch("some of the batch's event ids are already stored")
            by_id = {row[1]: record(row) for row in rows}
            return [by_id[event_id] for event_id in ids]
        (current,) = await _fetchone(
            self._writer,
            "SELECT coalesce(max(version), 0) FROM es_events WHERE stream_id = ?",
            (request.stream_id,),
        )
        if request.expected >= 0 and current != request.expected:
            return WrongExpectedVersion(request.stream_id, request.expected_version, current)
        (last,) = await _fetchone(
            self._writer, "SELECT coalesce(max(position), 0) FROM es_events", ()
        )
        recorded = _new_records(request, last, current)
        await self._writer.executemany(
            f"INSERT INTO es_events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # nosec B608
            [
                (
                    r.position,
                    str(r.event_id),
                    r.stream_id,
                    r.version,
                    r.type,
                    json.dumps(r.data),
                    r.occurred_at.isoformat(),
                    r.correlation_id,
                    r.causation_id,
                    r.traceparent,
                )
                for r in recorded
            ],
        )
        return recorded

    async def _rows(self, sql: str, params: list[object]) -> Iterable[Sequence[Any]]:
        return await self._reader.execute_fetchall(sql, params)

    async def head(self) -> int:
        (value,) = await _fetchone(
            self._reader, "SELECT coalesce(max(position), 0) FROM es_events", ()
        )
        self._saw_head(int(value))
        return int(value)

    def _saw_head(self, position: int) -> None:
        """Note a head seen here; waiters for news wake if it moved."""
        if position > self._head_seen:
            self._head_seen = position
            self._news.set()  # wakes every current waiter
            self._news.clear()

    async def wait_for_events(self, after: int, timeout: float) -> bool:
        """Whether an event past ``after`` exists, waiting up to ``timeout`` seconds for one.

        Waiters share one look at the head every ``POLL_INTERVAL`` (the followers of a process
        would each poll otherwise), and an append made here wakes them at once."""
        if await self.head() > after:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._waiting += 1
        try:
            while self._head_seen <= after:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                if self._watcher is None or self._watcher.done():
                    self._watcher = asyncio.create_task(self._watch_head())
                await wait_event(self._news, remaining)
                if self._watcher.done():  # its look failed: a lasting error is raised here
                    await self.head()
            return True
        finally:
            self._waiting -= 1

    async def _watch_head(self) -> None:
        """Look at the head while anyone waits; a failed look ends it and wakes them."""
        try:
            while self._waiting:
                await asyncio.sleep(POLL_INTERVAL)
                await self.head()
        except Exception:
            self._news.set()
            self._news.clear()

    async def load_checkpoint(self, name: str) -> int:
        rows = await self._reader.execute_fetchall(
            "SELECT position FROM es_checkpoints WHERE name = ?", (name,)
        )
        return int(next(iter(rows))[0]) if rows else 0

    async def save_checkpoint(self, name: str, position: int) -> None:
        async with self._write_lock:
            await self._writer.execute(
                "INSERT INTO es_checkpoints (name, position, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET position = excluded.position,"
                " updated_at = excluded.updated_at",
                (name, position, utcnow().isoformat()),
            )

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        await self._committer.close()
        await self._writer.close()
        await self._reader.close()
