"""The bus's bookkeeping in the event store's database: consumer groups, dead letters, replays.

- ``bus_groups``: every consumer group that ever consumed, so an operator's listing finds the
  dead letters of groups that run in other processes (and, on RabbitMQ, their DLQ names);
- ``bus_dead_letters``: events whose handler kept failing (the embedded bus's DLQ);
- ``bus_replays``: dead letters an operator handed back; the group's active member delivers
  each again (with fresh attempts) and deletes it;
- ``bus_first_attempts``: where freshly started members began, to tell a member that keeps
  dying on one event from a healthy restart.
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
    delete,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.clock import utcnow
from gamestore.platform.db import Upsert, read_only
from gamestore.platform.deadletter import DeadLetter
from gamestore.platform.eventstore import RecordedEvent

metadata = MetaData()
bus_groups = Table(
    "bus_groups",
    metadata,
    Column("consumer_group", String(200), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
)
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
bus_replays = Table(
    "bus_replays",
    metadata,
    Column("id", String(36), primary_key=True),  # the dead letter's id
    Column("consumer_group", String(200), nullable=False, index=True),
    Column("event", JSON, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
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
_REGISTER = Upsert(bus_groups, lambda insert: insert.on_conflict_do_nothing())


class DeadLetterTable:
    """The tables above, in the event store's database (created by its migrations, which
    the store runs or checks when it is opened: src/gamestore/migrations)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def register(self, group: str) -> None:
        """Remember that ``group`` consumes (once; later calls change nothing)."""
        async with self._engine.begin() as conn:
            await _REGISTER.execute(conn, {"consumer_group": group, "first_seen": utcnow()})

    async def groups(self) -> list[str]:
        """Every consumer group that ever consumed here, by name."""
        async with read_only(self._engine) as conn:
            found = await conn.scalars(select(bus_groups.c.consumer_group))
            return sorted(found)

    async def add(self, group: str, event: RecordedEvent, error: str, attempts: int) -> str:
        """Record ``event`` as dead for ``group``; returns the dead letter's id."""
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
                    dead_lettered_at=utcnow(),
                    correlation_id=event.correlation_id,
                )
            )
        return dead_id

    async def count_first_attempt(self, group: str, position: int) -> int:
        """Record that a freshly started member is about to handle ``position``; returns how
        many members in a row started on it (1 unless earlier ones died handling it)."""
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

    async def dead_letters(self, group: str | None = None) -> list[DeadLetter]:
        """Dead letters, oldest first, of one group or all."""
        query = select(bus_dead_letters).order_by(bus_dead_letters.c.dead_lettered_at)
        if group is not None:
            query = query.where(bus_dead_letters.c.consumer_group == group)
        async with read_only(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_dead_letter(row) for row in rows]

    async def replay(self, dead_letter_id: str) -> bool:
        """Move a dead letter to ``bus_replays`` (its group delivers it again); False if none."""
        dead = bus_dead_letters.c
        source = select(dead.id, dead.consumer_group, dead.event, _now_literal()).where(
            dead.id == dead_letter_id
        )
        move = insert(bus_replays).from_select(
            ["id", "consumer_group", "event", "requested_at"], source
        )
        async with self._engine.begin() as conn:
            await conn.execute(move)
            gone = await conn.execute(delete(bus_dead_letters).where(dead.id == dead_letter_id))
        return bool(gone.rowcount)

    async def replays(self, group: str, limit: int = 100) -> list[tuple[str, RecordedEvent]]:
        """The replays ``group`` has to deliver, oldest request first: (id, event)."""
        query = (
            select(bus_replays.c.id, bus_replays.c.event)
            .where(bus_replays.c.consumer_group == group)
            .order_by(bus_replays.c.requested_at)
            .limit(limit)
        )
        async with read_only(self._engine) as conn:
            rows = (await conn.execute(query)).all()
        return [(row.id, RecordedEvent.from_envelope(row.event)) for row in rows]

    async def replayed(self, replay_id: str) -> None:
        """A replay was delivered (handled or dead-lettered again): forget it."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(bus_replays).where(bus_replays.c.id == replay_id))

    async def discard(self, dead_letter_id: str) -> bool:
        """Drop one dead letter; False when there is none with that id."""
        async with self._engine.begin() as conn:
            gone = await conn.execute(
                delete(bus_dead_letters).where(bus_dead_letters.c.id == dead_letter_id)
            )
        return bool(gone.rowcount)

    async def purge(self, group: str | None = None) -> int:
        """Drop the dead letters of one group, or all; how many went."""
        statement = delete(bus_dead_letters)
        if group is not None:
            statement = statement.where(bus_dead_letters.c.consumer_group == group)
        async with self._engine.begin() as conn:
            return int((await conn.execute(statement)).rowcount)


def _now_literal() -> Any:
    return literal(utcnow(), DateTime(timezone=True))


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
        source="bus",
    )
