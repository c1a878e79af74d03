"""Purchases count once each, however often the bus delivers them; poison is dead-lettered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.migrations import upgrade
from gamestore.platform.bus import Backoff, connect_bus
from gamestore.platform.db import create_engine
from gamestore.platform.events import PoisonEvent
from gamestore.platform.eventstore import NO_STREAM, EventStore, NewEvent
from gamestore.search.index import SearchIndex, SearchQuery, open_search
from gamestore.search.indexer.handler import EVENT_TYPES, GROUP, Indexer
from gamestore.search.indexer.tables import purchase_counts
from tests.integration.indexer.support import create, eventually, purchase


@pytest.fixture
async def own_database(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The indexer's database on SQLite and on PostgreSQL."""
    engine = create_engine(database_url)
    await upgrade(engine, "indexer")
    yield engine
    await engine.dispose()


async def test_a_redelivered_purchase_counts_once(
    store: EventStore, index: SearchIndex, own_database: AsyncEngine
) -> None:
    indexer = Indexer(index, own_database)
    hit, miss = await create(store, "Stardew Valley"), await create(store, "Spiritfarer")
    await purchase(store, hit.id, "order-1")
    await purchase(store, hit.id, "order-2")
    await purchase(store, miss.id, "order-3")
    events = await store.read_all()
    for event in events + events[::-1] + events:  # every purchase delivered three times
        await indexer.handle(event)

    assert await purchase_counts(own_database) == {hit.id: 2, miss.id: 1}
    assert [h.id for h in await index.popular(10)] == [hit.id, miss.id]
    by_popularity = await index.search(SearchQuery(sort="popular"))
    assert [h.id for h in by_popularity.items] == [hit.id, miss.id]


async def test_concurrent_deliveries_of_one_purchase_count_once(
    store: EventStore, index: SearchIndex, own_database: AsyncEngine
) -> None:
    indexer = Indexer(index, own_database)
    game = await create(store, "Dead Cells")
    await purchase(store, game.id, "order-1")
    event = (await store.read_all(types=["PurchaseCompleted"]))[0]
    await asyncio.gather(*(indexer.handle(event) for _ in range(5)))
    assert await purchase_counts(own_database) == {game.id: 1}


async def test_a_purchase_without_a_game_id_is_poison(
    store: EventStore, indexer: Indexer, indexer_engine: AsyncEngine
) -> None:
    bad: list[dict[str, object]] = [
        {"order_id": "o-1"},
        {"game_id": None},
        {"game_id": "not-a-uuid"},
        {"game_id": 7},
    ]
    for n, data in enumerate(bad):
        await store.append(f"order-{n}", [NewEvent("PurchaseCompleted", data)], NO_STREAM)
    for event in await store.read_all():
        with pytest.raises(PoisonEvent):
            await indexer.handle(event)
    assert await purchase_counts(indexer_engine) == {}


async def test_the_bus_dead_letters_poison_and_the_indexer_moves_on(
    store: EventStore, index: SearchIndex, indexer: Indexer
) -> None:
    await store.append("order-x", [NewEvent("PurchaseCompleted", {"oops": 1})], NO_STREAM)
    game = await create(store, "Outer Wilds")
    bus = await connect_bus("embedded", store, backoff=Backoff(0.001, 0.005), idle_timeout=0.05)
    stop = asyncio.Event()
    consumer = asyncio.create_task(
        bus.consume(GROUP, EVENT_TYPES, indexer.handle, stop=stop, max_attempts=2)
    )
    try:
        found = await eventually(
            lambda: index.search(SearchQuery("outer wilds")), lambda r: r.total == 1
        )
        assert found.items[0].id == game.id
        dead = await bus.dead_letters(GROUP)
        assert [d.message["type"] for d in dead] == ["PurchaseCompleted"], dead
        assert "game id" in dead[0].error
    finally:
        stop.set()
        await consumer
        await bus.close()


async def test_a_failed_index_write_forgets_the_claim_so_the_retry_counts(
    store: EventStore, tmp_path: Path, indexer_engine: AsyncEngine
) -> None:
    game = await create(store, "Inscryption")
    await purchase(store, game.id, "order-1")
    event = (await store.read_all(types=["PurchaseCompleted"]))[0]
    broken = await open_search(tmp_path / "search")
    await broken.close()  # the index is gone: its write fails, as in a crash before it commits
    with pytest.raises(RuntimeError):
        await Indexer(broken, indexer_engine).handle(event)
    assert await purchase_counts(indexer_engine) == {}  # the claim rolled back with it

    index = await open_search(tmp_path / "search")
    try:
        retried = Indexer(index, indexer_engine)
        await retried.handle(event)
        await retried.handle(event)
        assert await purchase_counts(indexer_engine) == {game.id: 1}
        assert [hit.id for hit in await index.popular(5)] == []  # counted, game not indexed
        for created in await store.read_all(types=["GameCreated"]):
            await retried.handle(created)
        assert [hit.id for hit in await index.popular(5)] == [game.id]
    finally:
        await index.close()
