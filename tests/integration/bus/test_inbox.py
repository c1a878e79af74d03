"""The inbox (guarantee 4's exactly-once effect), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.bus import Backoff, BatchHandler, EventBus, connect_bus
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, NewEvent, RecordedEvent, connect
from gamestore.platform.inbox import claim, create_inbox, idempotent, idempotent_batch
from gamestore.platform.uow import NO_RELAY
from tests.integration.bus.support import (
    apply_effect,
    counts,
    create_consumer_schema,
    effects,
    eventually,
)

FAST: dict[str, Any] = {"backoff": Backoff(base_delay=0.01, max_delay=0.05), "standby_poll": 0.05}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await create_consumer_schema(engine)
    yield engine
    await engine.dispose()


def an_event() -> RecordedEvent:
    return RecordedEvent(
        position=1,
        event_id=uuid.uuid4(),
        stream_id="game-1",
        version=1,
        type="GameCreated",
        data={},
        occurred_at=datetime.now(UTC),
        correlation_id=None,
        causation_id=None,
    )


async def test_a_claim_succeeds_once_per_consumer(engine: AsyncEngine) -> None:
    event_id = uuid.uuid4()
    async with engine.begin() as conn:
        assert await claim(conn, "games", event_id) is True
        assert await claim(conn, "games", event_id) is False
        assert await claim(conn, "notifier", event_id) is True  # another consumer's inbox
    async with engine.begin() as conn:
        assert await claim(conn, "games", str(event_id)) is False


async def test_a_rolled_back_claim_is_forgotten_with_its_effect(engine: AsyncEngine) -> None:
    event = an_event()

    async def fail_after_effect(conn: object, event: RecordedEvent) -> None:
        await apply_effect(conn, event)  # type: ignore[arg-type]
        raise RuntimeError("the effect failed half-way")

    with pytest.raises(RuntimeError):
        await idempotent(engine, "games", fail_after_effect, on_commit=NO_RELAY)(event)
    assert await counts(engine, effects) == {}

    await idempotent(engine, "games", apply_effect, on_commit=NO_RELAY)(
        event
    )  # the retry does the work
    assert await counts(engine, effects) == {str(event.event_id): 1}


async def test_concurrent_redeliveries_have_one_effect(engine: AsyncEngine) -> None:
    event = an_event()
    handle = idempotent(engine, "games", apply_effect, on_commit=NO_RELAY)

    await asyncio.gather(*(handle(event) for _ in range(8)))
    await handle(event)

    assert await counts(engine, effects) == {str(event.event_id): 1}


async def test_create_inbox_is_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await create_inbox(engine)
        await create_inbox(engine)
        async with engine.begin() as conn:
            assert await claim(conn, "games", uuid.uuid4())
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def consuming_pages(
    store: EventStore, group: str, types: Collection[str], handler: BatchHandler
) -> AsyncIterator[EventBus]:
    """``handler`` fed pages by the embedded bus for the block (fast retries, 2 attempts)."""
    bus = await connect_bus("embedded", store, **FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(
        bus.consume_batches(group, types, handler, stop=stop, max_attempts=2)
    )
    try:
        yield bus
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await bus.close()


class Wakes:
    """An ``on_commit`` that counts its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def test_a_page_applies_a_fresh_event_and_skips_a_redelivered_one(
    engine: AsyncEngine,
) -> None:
    old, new = an_event(), an_event()
    wakes = Wakes()
    handle = idempotent_batch(engine, "games", apply_effect, on_commit=wakes)
    await handle([old])

    await handle([old, new, new])  # a redelivery, a fresh event, the fresh one again
    await handle([old, new])  # nothing fresh: no commit to announce

    assert await counts(engine, effects) == {str(old.event_id): 1, str(new.event_id): 1}
    assert wakes.count == 2


async def test_a_failing_effect_rolls_its_whole_page_back(engine: AsyncEngine) -> None:
    first, poison, last = an_event(), an_event(), an_event()

    async def effect(conn: AsyncConnection, event: RecordedEvent) -> None:
        if event is poison:
            raise RuntimeError("poison")
        await apply_effect(conn, event)

    wakes = Wakes()
    with pytest.raises(RuntimeError):
        await idempotent_batch(engine, "games", effect, on_commit=wakes)([first, poison, last])

    assert await counts(engine, effects) == {}
    assert wakes.count == 0
    async with engine.begin() as conn:  # the claims were rolled back with the effects
        assert await claim(conn, "games", first.event_id)


async def test_on_the_bus_only_the_poison_of_a_page_is_dead_lettered(
    engine: AsyncEngine, database_url: str
) -> None:
    store = await connect(database_url)
    try:
        events = []
        for n in range(5):  # appended before the consumer starts: one page
            events += await store.append(f"s-{n}", [NewEvent("A", {"n": n})])

        async def effect(conn: AsyncConnection, event: RecordedEvent) -> None:
            if event.data["n"] == 2:
                raise RuntimeError("poison")
            await apply_effect(conn, event)

        handler = idempotent_batch(engine, "pages", effect, on_commit=NO_RELAY)
        async with consuming_pages(store, "pages", ["A"], handler) as bus:
            dead = await _dead_letters(bus, "pages")
            await eventually(lambda: _effects(engine, 4), what="the other four effects")
        assert await counts(engine, effects) == {
            str(e.event_id): 1 for e in events if e.data["n"] != 2
        }
        assert [d.message["event_id"] for d in dead] == [str(events[2].event_id)]
    finally:
        await store.close()


async def _dead_letters(bus: EventBus, group: str) -> list[Any]:
    async def some() -> bool:
        return bool(await bus.dead_letters(group))

    await eventually(some, what="a dead letter")
    return list(await bus.dead_letters(group))


async def _effects(engine: AsyncEngine, count: int) -> bool:
    return sum((await counts(engine, effects)).values()) >= count
