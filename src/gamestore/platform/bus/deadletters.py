"""Where the embedded bus puts events whose handler kept failing: ``bus_dead_letters``.

The table lives in the event store's database, next to the consumer groups' checkpoints.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.db import create_tables, read_only
from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.queue.model import DeadLetter

metadata = MetaData()
bus_dead_letters = Table(
    "bus_dead_letters",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("consumer_group", String(200), nullable=False, index=True),
    Column("event_id", String(36), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("event", JSON, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("dead_lettered_at", DateTime(timezone=True), nullable=False),
    Column("correlation_id", String(200)),
)
# The first event a member handles after taking a group's lease: if the member dies in it,
# the next member starts on that same event. Counted here, across processes, so an event that
# kills every process handling it is dead-lettered instead of looping forever.
bus_first_attempts = Table(
    "bus_first_attempts",
    metadata,
    Column("consumer_group", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
)


class DeadLetterTable:
    """Add and list the bus's dead letters in the event store's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._ready = False

    async def _create(self) -> None:
        if self._ready:
            return
        await create_tables(self._engine, metadata)
        self._ready = True

    async def add(self, group: str, event: RecordedEvent, error: str, attempts: int) -> str:
        """Record ``event`` as dead for ``group``; returns the dead letter's id."""
        await self._create()
        dead_id = str(uuid.uuid4())
        async with self._engine.begin() as conn:
            await conn.execute(
                bus_dead_letters.insert().values(
                    id=dead_id,
                    consumer_group=group,
                    event_id=str(event.event_id),
                    position=event.position,
                    event=event.envelope(),
                    error=error,
                    attempts=attempts,
                    dead_lettered_at=datetime.now(UTC),
                    correlation_id=event.correlation_id,
                )
            )
        return dead_id

    async def count_first_attempt(self, group: str, position: int) -> int:
        """Record that a freshly started member is about to handle ``position``; returns how
        many members in a row started on it (1 unless earlier ones died handling it)."""
        await self._create()
        table = bus_first_attempts
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(table.c.position, table.c.attempts)
                    .where(table.c.consumer_group == group)
                    .with_for_update()
                )
            ).first()
            attempts = row.attempts + 1 if row is not None and row.position == position else 1
            if row is None:
                await conn.execute(
                    table.insert().values(consumer_group=group, position=position, attempts=1)
                )
            else:
                await conn.execute(
                    table.update()
                    .where(table.c.consumer_group == group)
                    .values(position=position, attempts=attempts)
                )
        return attempts

    async def list(self, group: str | None = None) -> list[DeadLetter]:
        """Dead letters, oldest first, of one group or all."""
        await self._create()
        query = select(bus_dead_letters).order_by(bus_dead_letters.c.dead_lettered_at)
        if group is not None:
            query = query.where(bus_dead_letters.c.consumer_group == group)
        async with read_only(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_dead_letter(row) for row in rows]


def _dead_letter(row: Any) -> DeadLetter:
    when: datetime = row["dead_lettered_at"]
    return DeadLetter(
        id=row["id"],
        queue=row["consumer_group"],
        message=row["event"],
        error=row["error"],
        attempts=row["attempts"],
        dead_lettered_at=when if when.tzinfo else when.replace(tzinfo=UTC),
        correlation_id=row["correlation_id"],
    )
