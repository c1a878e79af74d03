"""Table-backed work queue on SQLite (embedded default) or PostgreSQL.

A message is a row. Leasing pushes ``available_at`` to the end of a visibility timeout and stamps
a ``lease_token``; ack deletes the row (by id *and* token, so a consumer whose lease expired and
was taken over cannot ack someone else's delivery). A consumer that dies simply stops renewing:
the row becomes visible again and is redelivered with ``attempts + 1``. On PostgreSQL leasing
uses ``FOR UPDATE SKIP LOCKED`` so consumers in many processes never block on each other; on
SQLite the lease is one ``UPDATE … RETURNING`` under ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.migrations import ensure_schema, migrates_on_start
from gamestore.platform.db import Upsert, create_engine, is_sqlite, ping, read_only
from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.faults import DEFAULT_PAUSE, Pause
from gamestore.platform.logs import current_correlation, get_logger
from gamestore.platform.queue.batching import GroupCommit
from gamestore.platform.queue.model import DEFAULT_POLICY, Handler, RetryPolicy
from gamestore.platform.queue.table_consumer import Leased, TableConsumer, dead_letter_from_row
from gamestore.platform.queue.tables import db_now, dead_letters, messages
from gamestore.platform.tracing import current_traceparent

log = get_logger("queue.table")

DEFAULT_LEASE_TIMEOUT = 30.0  # seconds a delivery stays invisible unless renewed
POLL_INTERVAL = 0.025  # seconds between looks at an idle queue

_LEASED_COLUMNS = (
    messages.c.id,
    messages.c.queue,
    messages.c.body,
    messages.c.attempts,
    messages.c.correlation_id,
    messages.c.enqueued_at,
    messages.c.last_error,
    messages.c.traceparent,
)


class TableWorkQueue:
    """The :class:`~gamestore.platform.queue.model.WorkQueue` port over one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        lease_timeout: float = DEFAULT_LEASE_TIMEOUT,
        poll_interval: float = POLL_INTERVAL,
        pause: Pause = DEFAULT_PAUSE,
    ) -> None:
        self.engine = engine
        self.lease_timeout = lease_timeout
        self.poll_interval = poll_interval
        self.pause = pause  # between tries while a handler's dependency is away
        # SQLite has one writer: queueing writers here avoids the busy-wait back-off of its lock.
        self._sqlite_writer = asyncio.Lock() if is_sqlite(engine) else None
        self._found_empty: set[str] = set()  # SQLite queues whose last lease found nothing
        self._enqueues: GroupCommit[dict[str, Any], None] = GroupCommit(self._insert)
        self._acks: GroupCommit[Leased, bool] = GroupCommit(self._delete_acked)
        now = db_now(engine)
        # built once: the idle poll and the lease run many times a second
        visible = sa.and_(
            messages.c.queue == sa.bindparam("of_queue"), messages.c.available_at <= now
        )
        self._visible = sa.select(messages.c.id).where(visible).limit(1)
        pick = (
            sa.select(messages.c.id)
            .where(visible)
            .order_by(messages.c.available_at)
            .limit(sa.bindparam("at_most"))
            .with_for_update(skip_locked=True)
        )
        self._lease = (
            sa.update(messages)
            .where(messages.c.id.in_(pick))
            .values(
                attempts=messages.c.attempts + 1,
                available_at=now + lease_timeout,
                lease_token=sa.bindparam("new_token"),
            )
            .returning(*_LEASED_COLUMNS)
        )
        self._insert_new = Upsert(
            messages,
            lambda insert: insert.values(available_at=now, enqueued_at=now).on_conflict_do_nothing(
                index_elements=[messages.c.id]
            ),
        )

    @classmethod
    async def connect(
        cls, url: str, *, lease_timeout: float = DEFAULT_LEASE_TIMEOUT, pause: Pause = DEFAULT_PAUSE
    ) -> TableWorkQueue:
        """Open the queue in the database at ``url`` and create its tables if needed."""
        engine = create_engine(url)
        await ensure_schema(engine, "queue", migrate=migrates_on_start(url))
        return cls(engine, lease_timeout=lease_timeout, pause=pause)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (serialised in-process on SQLite)."""
        async with contextlib.AsyncExitStack() as stack:
            if self._sqlite_writer is not None:
                await stack.enter_async_context(self._sqlite_writer)
            yield await stack.enter_async_context(self.engine.begin())

    async def enqueue(
        self,
        queue: str,
        body: Mapping[str, Any],
        *,
        message_id: str | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Queue ``body``; an id already queued or dead-lettered makes this a no-op."""
        row = {
            "id": message_id or str(uuid.uuid4()),
            "queue": queue,
            "body": dict(body),
            "correlation_id": correlation_id or current_correlation(),
            "traceparent": current_traceparent(),
        }
        await self._enqueues.submit(row)
        return str(row["id"])

    async def _insert(self, rows: Sequence[dict[str, Any]]) -> list[None]:
        ids = [row["id"] for row in rows]
        async with self.write() as conn:
            known = sa.select(dead_letters.c.id).where(dead_letters.c.id.in_(ids))
            skip = set(await conn.scalars(known))
            fresh = list({row["id"]: row for row in rows if row["id"] not in skip}.values())
            if fresh:
                await self._insert_new.execute(conn, fresh)
        return [None] * len(rows)

    async def lease(self, queue: str, limit: int) -> list[Leased]:
        """Take up to ``limit`` visible messages for ``lease_timeout`` seconds."""
        if queue in self._found_empty and not await self._any_visible(queue):
            return []  # on SQLite an idle queue is watched without taking the write lock
        token = uuid.uuid4().hex
        async with self.write() as conn:
            leasing = {"of_queue": queue, "at_most": limit, "new_token": token}
            rows = (await conn.execute(self._lease, leasing)).all()
        if self._sqlite_writer is not None and not rows:
            self._found_empty.add(queue)
        else:
            self._found_empty.discard(queue)
        return [Leased.from_row(row, token) for row in rows]

    async def _any_visible(self, queue: str) -> bool:
        async with read_only(self.engine) as conn:
            return (await conn.execute(self._visible, {"of_queue": queue})).first() is not None

    async def ack(self, leased: Leased) -> bool:
        """Delete a handled message; False when its lease had been lost to another consumer."""
        return await self._acks.submit(leased)

    async def _delete_acked(self, batch: Sequence[Leased]) -> list[bool]:
        pairs = [(leased.id, leased.token) for leased in batch]
        stmt = (
            sa.delete(messages)
            .where(sa.tuple_(messages.c.id, messages.c.lease_token).in_(pairs))
            .returning(messages.c.id, messages.c.lease_token)
        )
        async with self.write() as conn:
            deleted = set((await conn.execute(stmt)).tuples())
        return [pair in deleted for pair in pairs]

    def _owned(self, leased: Leased) -> sa.ColumnElement[bool]:
        return sa.and_(messages.c.id == leased.id, messages.c.lease_token == leased.token)

    async def retry(self, leased: Leased, delay: float, error: str) -> None:
        """Release a failed delivery, visible again after ``delay`` seconds."""
        stmt = (
            sa.update(messages)
            .where(self._owned(leased))
            .values(available_at=db_now(self.engine) + delay, lease_token=None, last_error=error)
        )
        async with self.write() as conn:
            await conn.execute(stmt)

    async def release(self, leased: Leased) -> None:
        """Give a delivery back at once without counting it: it was held through an outage
        when the consumer was told to stop (the next lease counts the same attempt again)."""
        stmt = (
            sa.update(messages)
            .where(self._owned(leased))
            .values(
                available_at=db_now(self.engine),
                lease_token=None,
                attempts=messages.c.attempts - 1,
            )
        )
        async with self.write() as conn:
            await conn.execute(stmt)

    async def dead_letter(self, leased: Leased, error: str) -> None:
        """Move a delivery to the dead letters with its last error, in one transaction."""
        dialect = sqlite if is_sqlite(self.engine) else postgresql
        source = sa.select(
            messages.c.id,
            messages.c.queue,
            messages.c.body,
            messages.c.correlation_id,
            messages.c.attempts,
            sa.literal(error, sa.Text),
            messages.c.enqueued_at,
            messages.c.traceparent,
            db_now(self.engine),
        ).where(self._owned(leased))
        columns = ["id", "queue", "body", "correlation_id", "attempts", "error", "enqueued_at"]
        columns += ["traceparent", "dead_lettered_at"]
        move = dialect.insert(dead_letters).from_select(columns, source)
        async with self.write() as conn:
            await conn.execute(move.on_conflict_do_nothing(index_elements=[dead_letters.c.id]))
            await conn.execute(sa.delete(messages).where(self._owned(leased)))

    async def renew(self, tokens: Sequence[str]) -> None:
        """Extend the leases of deliveries still being handled."""
        stmt = (
            sa.update(messages)
            .where(messages.c.lease_token.in_(tokens))
            .values(available_at=db_now(self.engine) + self.lease_timeout)
        )
        async with self.write() as conn:
            await conn.execute(stmt)

    async def consume(
        self,
        queue: str,
        handler: Handler,
        *,
        stop: asyncio.Event,
        policy: RetryPolicy = DEFAULT_POLICY,
        concurrency: int = 1,
    ) -> None:
        """Handle messages of ``queue`` until ``stop`` is set (see :class:`TableConsumer`)."""
        consumer = TableConsumer(
            self, queue, handler, policy=policy, concurrency=concurrency, pause=self.pause
        )
        await consumer.run(stop)

    async def dead_letters(self, queue: str | None = None) -> list[DeadLetter]:
        """Dead letters, oldest first (of one queue, or all)."""
        stmt = sa.select(dead_letters).order_by(dead_letters.c.dead_lettered_at, dead_letters.c.id)
        if queue is not None:
            stmt = stmt.where(dead_letters.c.queue == queue)
        async with read_only(self.engine) as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [dead_letter_from_row(dict(row)) for row in rows]

    async def replay(self, dead_letter_id: str) -> bool:
        """Put a dead letter back on its queue with a fresh attempt count."""
        dialect = sqlite if is_sqlite(self.engine) else postgresql
        now = db_now(self.engine)
        source = sa.select(
            dead_letters.c.id,
            dead_letters.c.queue,
            dead_letters.c.body,
            dead_letters.c.correlation_id,
            dead_letters.c.traceparent,
            sa.literal(0),
            now,
            now,
        ).where(dead_letters.c.id == dead_letter_id)
        columns = ["id", "queue", "body", "correlation_id", "traceparent", "attempts"]
        back = dialect.insert(messages).from_select(
            [*columns, "available_at", "enqueued_at"], source
        )
        async with self.write() as conn:
            await conn.execute(back.on_conflict_do_nothing(index_elements=[messages.c.id]))
            gone = await conn.execute(self._delete_dead_letter(dead_letter_id))
        return bool(gone.rowcount)

    @staticmethod
    def _delete_dead_letter(dead_letter_id: str) -> sa.Delete:
        return sa.delete(dead_letters).where(dead_letters.c.id == dead_letter_id)

    async def discard(self, dead_letter_id: str) -> bool:
        """Drop one dead letter; False when there is none with that id."""
        async with self.write() as conn:
            gone = await conn.execute(self._delete_dead_letter(dead_letter_id))
        return bool(gone.rowcount)

    async def purge(self, queue: str | None = None) -> int:
        """Drop dead letters (of one queue, or all); returns how many."""
        stmt = sa.delete(dead_letters)
        if queue is not None:
            stmt = stmt.where(dead_letters.c.queue == queue)
        async with self.write() as conn:
            return int((await conn.execute(stmt)).rowcount)

    async def pending(self, queue: str) -> int:
        """Messages of ``queue`` not yet acked or dead-lettered (queued, leased or waiting)."""
        stmt = sa.select(sa.func.count()).where(messages.c.queue == queue)
        async with read_only(self.engine) as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def oldest_age(self, queue: str) -> float | None:
        stmt = sa.select(db_now(self.engine) - sa.func.min(messages.c.enqueued_at)).where(
            messages.c.queue == queue
        )
        async with read_only(self.engine) as conn:
            age = (await conn.execute(stmt)).scalar_one()
        return max(0.0, float(age)) if age is not None else 0.0

    async def ping(self) -> None:
        await ping(self.engine)

    async def close(self) -> None:
        """Finish the batches under way and release the connections."""
        await self._enqueues.close()
        await self._acks.close()
        await self.engine.dispose()
