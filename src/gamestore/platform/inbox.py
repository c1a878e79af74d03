"""The consumer inbox: exactly-once effect for at-least-once delivery.

A consumer records each event id it handled in its OWN database, in the same transaction as the
effect. A redelivered event finds its row and changes nothing::

    async with engine.begin() as conn:
        if await claim(conn, "games", event.event_id):
            ...  # the effect, on conn

or, wrapping a handler: ``bus.consume("games", types, idempotent(engine, "games", apply,
on_commit=relay.wake), ...)``.

A service's consumer applies a page through its unit of work: ``apply_page(uow, "games",
events, apply)`` claims each event on the unit of work's repository, then applies it.

Under load, ``bus.consume_batches(..., idempotent_batch(engine, "games", apply, on_commit=wake))``
applies a whole page in ONE transaction: per event, in order, the claim then the effect. A page
costs one commit instead of one per event; if any effect raises, the page rolls back whole and the
bus redelivers its events one at a time, so only the poison one is dead-lettered.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import Column, DateTime, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.bus.model import BatchHandler, EventHandler, one_at_a_time
from gamestore.platform.clock import utcnow
from gamestore.platform.db import Upsert
from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.uow import Transaction, UnitOfWork

Effect = Callable[[AsyncConnection, RecordedEvent], Awaitable[None]]
log = get_logger("inbox")


def inbox_table(metadata: MetaData) -> Table:
    """Define the ``inbox`` table on a service's own MetaData (its migrations create it)."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )


inbox = inbox_table(MetaData())
_CLAIM = Upsert(
    inbox, lambda insert: insert.on_conflict_do_nothing(index_elements=["consumer", "event_id"])
)


async def create_inbox(engine: AsyncEngine) -> None:
    """Create the ``inbox`` table if it does not exist (for services without their own schema)."""
    async with engine.begin() as conn:
        await conn.run_sync(inbox.metadata.create_all)


async def claim(conn: AsyncConnection, consumer: str, event_id: uuid.UUID | str) -> bool:
    """True the first time ``consumer`` claims ``event_id``; False for a redelivery.

    Call it inside the effect's transaction: a rollback forgets the claim with the effect.
    Two concurrent claims of one id: one inserts, the other waits for it and then gets False.
    """
    row = {"consumer": consumer, "event_id": str(event_id), "handled_at": utcnow()}
    return (await _CLAIM.execute(conn, row)).rowcount == 1


def idempotent(
    engine: AsyncEngine, consumer: str, effect: Effect, *, on_commit: Callable[[], None]
) -> EventHandler:
    """A handler that runs ``effect(conn, event)`` once per event id, in one transaction
    with the inbox row: both commit together or neither does (a page of one of
    :func:`idempotent_batch`)."""
    return one_at_a_time(idempotent_batch(engine, consumer, effect, on_commit=on_commit))


def idempotent_batch(
    engine: AsyncEngine,
    consumer: str,
    effect: Effect,
    *,
    on_commit: Callable[[], None],
) -> BatchHandler:
    """A batch handler that applies a page of events in ONE transaction: for each event in
    order, its inbox claim then ``effect(conn, event)`` (under the event's correlation id, so
    staged outbox events carry it). A redelivered event finds its claim and is skipped; any
    effect raising rolls the whole page back (the bus then retries it event by event).
    ``on_commit`` (waking an outbox relay) runs once after a commit that claimed anything; it
    is required, so that an effect staging events cannot forget the wake (a consumer whose
    effects stage nothing, or whose process runs no relay, passes ``uow.NO_RELAY``)."""

    async def handle(events: list[RecordedEvent]) -> None:
        async with engine.begin() as conn:

            async def claim_here(consumer: str, event_id: uuid.UUID) -> bool:
                return await claim(conn, consumer, event_id)

            async def apply(event: RecordedEvent) -> None:
                await effect(conn, event)

            fresh = await _each_new(claim_here, consumer, events, apply)
        if fresh:
            on_commit()

    return handle


class Claims(Protocol):
    """A repository that claims events in its consumer's inbox, on its unit of work."""

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool: ...


C = TypeVar("C", bound=Claims)


async def apply_page(
    uow: UnitOfWork[C],
    consumer: str,
    events: Sequence[RecordedEvent],
    apply: Callable[[Transaction[C], RecordedEvent], Awaitable[object]],
) -> None:
    """A page of events in ONE unit of work: for each event in order, its inbox claim then
    ``apply(tx, event)``, under the event's correlation id (so what it emits carries it). A
    redelivered event finds its claim and is skipped; any event raising rolls the whole page
    back, and the bus then retries it event by event. The unit of work wakes the relay once,
    after the commit, if anything was emitted."""
    async with uow() as tx:

        async def apply_here(event: RecordedEvent) -> None:
            await apply(tx, event)

        await _each_new(tx.repo.claim, consumer, events, apply_here)


async def _each_new(
    claim_one: Callable[[str, uuid.UUID], Awaitable[bool]],
    consumer: str,
    events: Sequence[RecordedEvent],
    apply: Callable[[RecordedEvent], Awaitable[object]],
) -> int:
    """Claim then apply each event not handled before, in order; how many were new."""
    fresh = 0
    for event in events:
        with correlation(event.correlation_id):
            if not await claim_one(consumer, event.event_id):
                log.info("event already handled", consumer=consumer, event_type=event.type)
                continue
            fresh += 1
            await apply(event)
    return fresh
