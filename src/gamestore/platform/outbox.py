"""Transactional outbox (ARCHITECTURE.md guarantee 1: no dual write).

A service writes its state and its outgoing events in ONE local transaction. Use cases do it
through their unit of work (``platform/uow.py``), which stages what they emit here::

    async with uow() as tx:
        await tx.repo.insert(game)
        tx.emit(f"game-{game.id}", GameCreated.of(game), NO_STREAM)   # -> Outbox.add at commit

The :class:`OutboxRelay` then moves committed rows to the event store and deletes them. Event
ids make the move idempotent: a relay killed after appending and before deleting re-appends the
same ids on restart, and the event store answers with the originals instead of duplicating.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.clock import utcnow
from gamestore.platform.db import read_only
from gamestore.platform.eventstore import (
    ANY,
    EventStore,
    ExpectedVersion,
    NewEvent,
    WrongExpectedVersion,
)
from gamestore.platform.eventstore.model import expected_to_int
from gamestore.platform.faults import OutageLog, Pause, is_transient
from gamestore.platform.health import HEALTH
from gamestore.platform.logs import current_correlation, get_logger
from gamestore.platform.metrics import EVENTSTORE_HEAD, OUTBOX_BACKLOG, OUTBOX_LAG, OUTBOX_RELAYED
from gamestore.platform.tracing import current_traceparent
from gamestore.platform.waiting import first_set

log = get_logger("outbox")
RELAY_PAUSE = Pause(first=0.1, cap=5.0)  # between tries while the relay keeps failing
# Every commit of the service's own process wakes its relay (``on_commit``); the poll only
# finds rows committed by others (a CLI command, another replica), so it can be slow: a poll
# every 50 ms cost each idle service ~2 % of a core, a fifth of an idle store's CPU.
POLL_INTERVAL = 1.0
RELAY_OWNER: str | None = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process. Replicas of a service share its outbox: each relay moves the rows its own
process staged (woken by its own commits), so two relays never append the same rows; rows of
no owner are anyone's at once, and rows nobody has moved for ``ORPHANED_AFTER`` (a replica
that died) become anyone's."""
ORPHANED_AFTER = timedelta(seconds=5)


def without_own_relay() -> None:
    """This process runs no relay (``gamestore seed``): what it stages is any relay's to move
    at once, instead of after ``ORPHANED_AFTER``."""
    global RELAY_OWNER
    RELAY_OWNER = None


def outbox_table(metadata: MetaData) -> Table:
    """The ``outbox`` table, declared on the service's own metadata."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("batch_id", String(36), nullable=False),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("stream_id", String(200), nullable=False),
        Column("type", String(100), nullable=False),
        Column("data", JSON, nullable=False),
        Column("expected_version", Integer, nullable=False),
        Column("correlation_id", String(255)),
        Column("causation_id", String(255)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("traceparent", String(128)),  # the span that staged it (platform/tracing.py)
        Column("relay_owner", String(64)),  # the process whose relay moves it (RELAY_OWNER)
    )


@dataclass(frozen=True)
class Outbox:
    """Stages events in the caller's transaction."""

    table: Table

    async def add(
        self,
        conn: AsyncConnection,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> None:
        """Stage ``events`` for ``stream_id``; they reach the store only if ``conn`` commits."""
        if not events:
            return
        batch_id = str(uuid.uuid4())
        expected = expected_to_int(expected_version)
        corr = current_correlation()
        now = utcnow()
        await conn.execute(
            self.table.insert(),
            [
                {
                    "batch_id": batch_id,
                    "event_id": str(e.event_id),
                    "stream_id": stream_id,
                    "type": e.type,
                    "data": dict(e.data),
                    "expected_version": expected,
                    "correlation_id": e.correlation_id or corr,
                    "causation_id": e.causation_id,
                    "created_at": now,
                    "traceparent": e.traceparent or current_traceparent(e.causation_id),
                    "relay_owner": RELAY_OWNER,
                }
                for e in events
            ],
        )


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _behind(error: WrongExpectedVersion) -> bool:
    """The stream has not reached the version the event expects (yet)."""
    return isinstance(error.expected, int) and error.actual < error.expected


def _expected(encoded: int) -> ExpectedVersion:
    return ANY if encoded < 0 else encoded


def _waves(batches: list[list[Any]]) -> Iterator[list[list[Any]]]:
    """The batches in order, cut into runs where no stream appears twice. A run's batches are
    appended concurrently, so the event store writes them as one group commit, in this order
    (``batching.py``); a stream's next batch waits for the run after, so a stream's events
    never change order even when one of its appends fails."""
    wave: list[list[Any]] = []
    streams: set[str] = set()
    for batch in batches:
        if batch[0].stream_id in streams:
            yield wave
            wave, streams = [], set()
        wave.append(batch)
        streams.add(batch[0].stream_id)
    if wave:
        yield wave


class OutboxRelay:
    """Moves committed outbox rows to the event store, in commit order, then deletes them."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        table: Table,
        *,
        batch_size: int = 500,
        poll_interval: float = POLL_INTERVAL,
        name: str = "service",
        owner: str | None = RELAY_OWNER,
        orphaned_after: timedelta = ORPHANED_AFTER,
    ) -> None:
        self._engine = engine
        self._store = store
        self._table = table
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wakeup = asyncio.Event()
        self._name = name  # the service whose outbox this is (metric labels, loop name)
        self._owner = owner  # whose staged rows it moves at once (RELAY_OWNER)
        self._orphaned_after = orphaned_after

    def wake(self) -> None:
        """Tell the relay new rows were committed (saves waiting for the next poll)."""
        self._wakeup.set()

    async def relay_once(self) -> int:
        """Relay what is committed now; returns how many events were moved."""
        self._wakeup.clear()  # a commit from now on wakes the next pass, not this one
        table = self._table
        ours = sa.or_(
            table.c.relay_owner == self._owner,
            table.c.relay_owner.is_(None),
            table.c.created_at < utcnow() - self._orphaned_after,
        )
        async with read_only(self._engine) as conn:  # a look takes no write lock
            rows = (
                await conn.execute(
                    table.select().where(ours).order_by(table.c.id).limit(self._batch_size)
                )
            ).all()
        if not rows:
            return 0
        batches = [list(group) for _, group in itertools.groupby(rows, key=lambda r: r.batch_id)]
        relayed: list[int] = []
        try:
            for wave in _waves(batches):
                results = await asyncio.gather(
                    *(self._append(batch) for batch in wave), return_exceptions=True
                )
                for batch, result in zip(wave, results, strict=True):
                    if not isinstance(result, BaseException):
                        relayed.extend(row.id for row in batch)
                if failed := [r for r in results if isinstance(r, BaseException)]:
                    raise failed[0]
        finally:
            if relayed:
                async with self._engine.begin() as conn:
                    await conn.execute(self._table.delete().where(self._table.c.id.in_(relayed)))
                OUTBOX_RELAYED.labels(self._name).inc(len(relayed))
        return len(relayed)

    async def sample(self) -> None:
        """The outbox's backlog and the age of its oldest row, and the event store's head,
        for a scrape."""
        table = self._table
        stmt = sa.select(sa.func.count(), sa.func.min(table.c.created_at))
        async with read_only(self._engine) as conn:
            count, oldest = (await conn.execute(stmt)).one()
        age = (utcnow() - _aware(oldest)).total_seconds() if oldest else 0.0
        OUTBOX_BACKLOG.labels(self._name).set(count)
        OUTBOX_LAG.labels(self._name).set(max(0.0, age))
        EVENTSTORE_HEAD.set(await self._store.head())

    async def _append(self, batch: list[Any]) -> None:
        first = batch[0]
        events = [
            NewEvent(
                type=row.type,
                data=row.data,
                event_id=uuid.UUID(row.event_id),
                correlation_id=row.correlation_id,
                causation_id=row.causation_id,
                traceparent=row.traceparent,
            )
            for row in batch
        ]
        await self._store.append(first.stream_id, events, _expected(first.expected_version))

    async def run(self, *, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; errors are logged and retried, never dropped.

        An outage of the service's database or of the event store is waited out (capped,
        jittered backoff; logged when it starts and ends); any other error is logged in full
        and retried the same way, since the rows stay in the outbox until they are moved."""
        outage = OutageLog("outbox relay: database or event store")
        failures = 0
        with HEALTH.loop(f"outbox {self._name}") as beat:
            while not stop.is_set():
                try:
                    with beat.step():
                        moved = await self.relay_once()
                    failures = 0
                    outage.recovered()
                except Exception as error:
                    failures += 1
                    moved = 0
                    self._report(error, outage)
                if moved < self._batch_size:  # all there was: wait for a wake-up or the poll
                    wait = RELAY_PAUSE.delay(failures) if failures else self._poll_interval
                    await self._idle(wait, stop)

    @staticmethod
    def _report(error: Exception, outage: OutageLog) -> None:
        if is_transient(error):
            outage.failed(error)
        elif isinstance(error, WrongExpectedVersion) and _behind(error):
            # another replica staged the stream's previous event and has not moved it yet
            log.info("outbox event waits for its stream's previous event", error=error)
        elif isinstance(error, WrongExpectedVersion):
            log.error("outbox event conflicts with the stream", error=error)
        else:
            log.exception("outbox relay failed; will retry")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Relay in a background task for the duration of the block, then stop it."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop=stop))
        try:
            yield
        finally:
            stop.set()
            await task

    async def _idle(self, seconds: float, stop: asyncio.Event) -> None:
        await first_set(self._wakeup, stop, timeout=seconds)
