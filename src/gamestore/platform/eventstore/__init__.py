"""The append-only event store::

store = await connect("sqlite:///data/events.db")  # or "postgresql://root@127.0.0.1/test"
created = NewEvent(type="GameCreated", data={"title": "Celeste"})
await store.append("game-1", [created], expected_version=NO_STREAM)
page = await store.read_all(after=0, limit=1000)
"""

from __future__ import annotations

from gamestore.platform.config import scheme
from gamestore.platform.eventstore.model import (
    ANY,
    NO_BOUND,
    NO_STREAM,
    AppendOnlyViolation,
    DuplicateEventMismatch,
    EventStore,
    EventStoreError,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    WrongExpectedVersion,
)

__all__ = [
    "ANY",
    "NO_BOUND",
    "NO_STREAM",
    "AppendOnlyViolation",
    "DuplicateEventMismatch",
    "EventStore",
    "EventStoreError",
    "ExpectedVersion",
    "NewEvent",
    "RecordedEvent",
    "WrongExpectedVersion",
    "connect",
]


async def connect(url: str) -> EventStore:
    """Open the event store named by ``url``, creating its schema if needed."""
    kind = scheme(url)
    if kind == "sqlite":
        from gamestore.platform.eventstore.sqlite import SqliteEventStore

        return await SqliteEventStore.connect(url)
    if kind in ("postgresql", "postgres"):
        from gamestore.platform.eventstore.postgres import PostgresEventStore

        return await PostgresEventStore.connect(url)
    raise ValueError(f"no event store adapter for {url!r} (use sqlite:/// or postgresql://)")
