"""The inbox (guarantee 4's exactly-once effect), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.inbox import claim, create_inbox, idempotent
from tests.integration.bus.support import apply_effect, counts, create_consumer_schema, effects


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
        await idempotent(engine, "games", fail_after_effect)(event)
    assert await counts(engine, effects) == {}

    await idempotent(engine, "games", apply_effect)(event)  # the retry does the work
    assert await counts(engine, effects) == {str(event.event_id): 1}


async def test_concurrent_redeliveries_have_one_effect(engine: AsyncEngine) -> None:
    event = an_event()
    handle = idempotent(engine, "games", apply_effect)

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
