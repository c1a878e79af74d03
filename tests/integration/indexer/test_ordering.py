"""Stale, duplicate and out-of-order deliveries leave the newest version of every game."""

from __future__ import annotations

import random

from gamestore.platform.eventstore import EventStore
from gamestore.search.index import SearchIndex, SearchQuery
from gamestore.search.indexer.handler import Indexer
from tests.integration.indexer.support import create, delete, rename


async def _titles(index: SearchIndex) -> dict[str, str]:
    result = await index.search(SearchQuery(size=100))
    return {hit.id: hit.title for hit in result.items}


async def test_create_update_delete_in_order(
    store: EventStore, index: SearchIndex, indexer: Indexer
) -> None:
    game = await create(store, "Hollow Knight")
    for event in await store.read_all():
        await indexer.handle(event)
    assert (await index.search(SearchQuery("hollow"))).total == 1

    game = await rename(store, game, "Silksong")
    for event in await store.read_all(after=1):
        await indexer.handle(event)
    assert (await index.search(SearchQuery("hollow"))).total == 0
    assert [h.id for h in (await index.search(SearchQuery("silksong"))).items] == [game.id]

    await delete(store, game)
    for event in await store.read_all(after=2):
        await indexer.handle(event)
    assert (await index.search(SearchQuery("silksong"))).total == 0
    assert await _titles(index) == {}


async def test_shuffled_and_duplicated_deliveries_leave_the_newest_version(
    store: EventStore, index: SearchIndex, indexer: Indexer
) -> None:
    deleted = await create(store, "Doomed Game")
    for n in range(3):
        deleted = await rename(store, deleted, f"Doomed Game {n}")
    await delete(store, deleted)
    kept = await create(store, "Celeste")
    for n in range(4):
        kept = await rename(store, kept, f"Celeste Chapter {n}")
    other = await create(store, "Terraria")
    events = await store.read_all()
    assert len(events) == 11

    deliveries = events * 2  # every event twice, in a seeded random order
    random.Random(20261129).shuffle(deliveries)
    assert deliveries[:11] != events, "the shuffle must actually reorder"
    for event in deliveries:
        await indexer.handle(event)

    assert await _titles(index) == {kept.id: "Celeste Chapter 3", other.id: "Terraria"}
    assert (await index.search(SearchQuery("doomed"))).total == 0
    assert (await index.search(SearchQuery("chapter 2"))).items[0].title == "Celeste Chapter 3"


async def test_a_stale_upsert_after_the_delete_does_not_resurrect(
    store: EventStore, index: SearchIndex, indexer: Indexer
) -> None:
    game = await create(store, "Ghost Game")
    await delete(store, game)
    created, deleted = await store.read_all()
    await indexer.handle(deleted)
    await indexer.handle(created)  # arrives after the delete it precedes
    assert (await index.search(SearchQuery("ghost"))).total == 0


async def test_shuffled_duplicated_batches_leave_the_newest_version(
    store: EventStore, index: SearchIndex, indexer: Indexer
) -> None:
    """The batch path (one commit per page) keeps the same guarantee, whatever the grouping."""
    deleted = await create(store, "Doomed Game")
    deleted = await rename(store, deleted, "Doomed Game 2")
    await delete(store, deleted)
    kept = await create(store, "Celeste")
    for n in range(4):
        kept = await rename(store, kept, f"Celeste Chapter {n}")
    events = await store.read_all()

    deliveries = events * 2
    random.Random(7).shuffle(deliveries)
    for start in range(0, len(deliveries), 4):  # pages of four, newest and stale mixed
        await indexer.handle_batch(deliveries[start : start + 4])

    assert await _titles(index) == {kept.id: "Celeste Chapter 3"}
    assert (await index.search(SearchQuery("doomed"))).total == 0
