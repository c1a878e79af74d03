"""``gamestore reindex``: a real event store and embedded index in temporary directories.

The live index is first fed event by event (as the indexer does); the rebuild must give the
same answers, repair what the live index lost, keep answering queries while it runs, and count
each purchase once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gamestore.cli.reindex import rebuild
from gamestore.games.demo import demo_games
from gamestore.games.domain import Game, stream_of
from gamestore.games.events import GameCreated, GameDeleted, GameUpdated
from gamestore.platform.eventstore import NO_STREAM, EventStore, NewEvent, RecordedEvent, connect
from gamestore.search.index import SearchIndex, SearchQuery
from gamestore.search.index.embedded import EmbeddedSearch
from gamestore.search.indexer.documents import PURCHASE, document_of

QUERIES = [
    SearchQuery("witcer"),
    SearchQuery("pokemon"),
    SearchQuery("kingdom", genre="RPG"),
    SearchQuery("", platform="PC", min_price=1000, max_price=9999, sort="price_asc"),
    SearchQuery("legends", sort="release_desc", size=50),
    SearchQuery("", sort="popular", size=10),
]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PURCHASES = sum(n + 1 for n in range(12))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    store = await connect(f"sqlite:///{tmp_path / 'events.db'}")
    yield store
    await store.close()


async def history(store: EventStore, games: int = 60) -> list[Game]:
    """Games created, some updated twice, some deleted, purchases of a few: in the store."""
    created = [Game(str(uuid.uuid4()), fields, 1, NOW, NOW) for fields in demo_games(games, seed=5)]
    for game in created:
        await store.append(stream_of(game.id), [GameCreated.of(game).new_event()], NO_STREAM)
    for game in created[::7]:
        for version in (2, 3):
            fields = replace(game.fields, title=f"{game.title} v{version}", price_cents=version)
            event = GameUpdated.of(replace(game, fields=fields, version=version)).new_event()
            await store.append(stream_of(game.id), [event], version - 1)
    for game in created[3::10]:
        deleted = replace(game, version=4 if game in created[::7] else 2, deleted_at=NOW)
        await store.append(
            stream_of(game.id), [GameDeleted.of(deleted).new_event()], deleted.version - 1
        )
    for n, game in enumerate(created[:12]):
        for _ in range(n + 1):  # distinct counts: the popular order has no ties
            await purchase(store, game.id)
    return created


async def purchase(store: EventStore, game_id: str) -> None:
    data = {"game_id": game_id, "order_id": str(uuid.uuid4())}
    await store.append(f"order-{uuid.uuid4()}", [NewEvent(PURCHASE, data)], NO_STREAM)


async def apply_one_by_one(store: EventStore, index: SearchIndex, after: int = 0) -> int:
    """Feed ``index`` every event after ``after``, one at a time, as the indexer does."""
    for event in await store.read_all(after, 10_000):
        await apply(index, event)
        after = event.position
    return after


async def apply(index: SearchIndex, event: RecordedEvent) -> None:
    if event.type in ("GameCreated", "GameUpdated"):
        await index.upsert(document_of(event.data, event.version))
    elif event.type == "GameDeleted":
        await index.delete(event.data["id"], event.version)
    elif event.type == PURCHASE:
        await index.add_popularity(event.data["game_id"])


async def answers(index: SearchIndex) -> list[Any]:
    found: list[Any] = []
    for query in QUERIES:
        result = await index.search(query)
        hits = [(h.id, h.title, h.price_cents) for h in result.items]
        if query.sort == "relevance":
            hits.sort()  # equal scores may tie-break differently across segment layouts
        elif query.sort in ("price_asc", "price_desc"):  # and so may equal prices
            descending = query.sort == "price_desc"
            prices = [price for _, _, price in hits]
            assert prices == sorted(prices, reverse=descending), prices
            hits.sort(key=lambda hit: (hit[2], hit[0]), reverse=descending)
        found.append((hits, result.total, result.facets))
    found.append([(h.id, h.title) for h in await index.popular(20)])
    return found


def at(position: int) -> Callable[[], Awaitable[int]]:
    async def handled() -> int:
        return position

    return handled


def generation(root: Path) -> str:
    return (root / "CURRENT").read_text()


async def test_reindex_gives_the_answers_of_the_incremental_index(
    store: EventStore, tmp_path: Path
) -> None:
    await history(store)
    root = tmp_path / "search"
    live = await EmbeddedSearch.open(root)
    try:
        handled = await apply_one_by_one(store, live)
        incremental = await answers(live)
        assert incremental[0][1] >= 1 and incremental[-1], "the queries must find something"
        before = generation(root)
        report = await rebuild(store, live, at(handled))
        assert generation(root) != before
        assert await answers(live) == incremental
        assert report.purchases_counted == PURCHASES
    finally:
        await live.close()


async def test_reindex_repairs_an_index_that_lost_writes(store: EventStore, tmp_path: Path) -> None:
    games = await history(store)
    live = await EmbeddedSearch.open(tmp_path / "search")
    try:
        handled = await apply_one_by_one(store, live)
        truth = await answers(live)
        await live.delete(games[1].id, 99)  # a write the index has but the log does not
        assert await answers(live) != truth
        await rebuild(store, live, at(handled))
        assert await answers(live) == truth
    finally:
        await live.close()


async def test_queries_during_a_reindex_all_answer_with_results(
    store: EventStore, tmp_path: Path
) -> None:
    await history(store, games=600)
    root = tmp_path / "search"
    live = await EmbeddedSearch.open(root)
    reader = await EmbeddedSearch.open(root)  # another process's view, read-only
    done = asyncio.Event()
    totals: list[int] = []

    async def query_until_done() -> None:
        while not done.is_set():
            for query in QUERIES[:4]:
                totals.append((await reader.search(query)).total)

    try:
        handled = await store.head()
        await rebuild(store, live, at(handled))
        querying = asyncio.create_task(query_until_done())
        before = len(totals)
        await rebuild(store, live, at(handled))
        done.set()
        await querying  # raises if any query failed
        assert len(totals) - before >= 8, "queries must have run during the rebuild"
        assert all(total > 0 for total in totals)
    finally:
        await reader.close()
        await live.close()


async def test_events_appended_during_the_rebuild_are_in_the_new_index(
    store: EventStore, tmp_path: Path
) -> None:
    games = await history(store)
    live = await EmbeddedSearch.open(tmp_path / "search")
    target = replace(games[2], fields=replace(games[2].fields, title="Zyxwvut Arrival"), version=2)

    async def handled_while_writing() -> int:
        if not await store.read_stream(stream_of(target.id), from_version=2):
            await store.append(stream_of(target.id), [GameUpdated.of(target).new_event()], 1)
        return await store.head()

    try:
        await apply_one_by_one(store, live)
        await rebuild(store, live, handled_while_writing)
        found = await live.search(SearchQuery("zyxwvut"))
        assert [hit.title for hit in found.items] == ["Zyxwvut Arrival"]
    finally:
        await live.close()


async def test_purchases_the_indexer_has_not_handled_are_left_to_it(
    store: EventStore, tmp_path: Path
) -> None:
    games = await history(store)
    root = tmp_path / "search"
    live = await EmbeddedSearch.open(root)
    try:
        handled = await apply_one_by_one(store, live)
        await purchase(store, games[0].id)  # appended, not handled by the indexer yet
        await purchase(store, games[0].id)
        report = await rebuild(store, live, at(handled))
        assert report.purchases_counted == PURCHASES
        assert popularity(root, games[0].id) == 1
        await apply_one_by_one(store, live, after=handled)  # the indexer catches up
        assert popularity(root, games[0].id) == 3  # each purchase counted once
        assert popularity(root, games[11].id) == 12
    finally:
        await live.close()


def popularity(root: Path, game_id: str) -> int:
    """The purchase count the live generation holds for the game."""
    with contextlib.closing(sqlite3.connect(root / generation(root) / "versions.db")) as db:
        row = db.execute("SELECT popularity FROM games WHERE id = ?", (game_id,)).fetchone()
    return int(row[0]) if row else 0


async def test_a_failed_rebuild_leaves_the_live_index_answering(
    store: EventStore, tmp_path: Path
) -> None:
    await history(store)
    root = tmp_path / "search"
    live = await EmbeddedSearch.open(root)

    async def broken() -> int:
        raise ConnectionError("the event store went away")

    try:
        handled = await store.head()
        await rebuild(store, live, at(handled))
        truth, current = await answers(live), generation(root)
        with pytest.raises(ConnectionError):
            await rebuild(store, live, broken)
        assert generation(root) == current
        assert await answers(live) == truth
        await rebuild(store, live, at(handled))  # and the next rebuild works
        assert await answers(live) == truth
    finally:
        await live.close()
