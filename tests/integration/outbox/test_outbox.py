"""Transactional outbox and relay (guarantee 1), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

import gamestore.platform.outbox as outbox_module
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, NewEvent, WrongExpectedVersion, connect
from gamestore.platform.logs import correlation
from gamestore.platform.outbox import RELAY_OWNER, OutboxRelay
from tests.integration.outbox.support import create_game, games, metadata, outbox, rename_game

CHILD = Path(__file__).with_name("relay_crash_child.py")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    store = await connect(database_url)  # the store's tables live beside the service's here
    yield store
    await store.close()


async def outbox_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(outbox.table))).scalar_one()
        )


async def test_committed_events_are_relayed_in_order_then_removed(
    engine: AsyncEngine, store: EventStore
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    for n, game_id in enumerate(ids):
        await create_game(engine, game_id, f"Game {n}")
    relay = OutboxRelay(engine, store, outbox.table, batch_size=2)

    moved = 0
    while batch := await relay.relay_once():
        moved += batch

    assert moved == 5
    events = await store.read_all()
    assert [e.data["id"] for e in events] == ids
    assert all(e.version == 1 for e in events)
    assert await outbox_rows(engine) == 0


async def test_a_rolled_back_unit_of_work_publishes_nothing(
    engine: AsyncEngine, store: EventStore
) -> None:
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await conn.execute(games.insert().values(id="g", title="Doomed", version=1))
            await outbox.add(conn, "game-g", [NewEvent(type="GameCreated", data={})])
            raise RuntimeError("crash after staging, before commit")

    assert await OutboxRelay(engine, store, outbox.table).relay_once() == 0
    assert await store.read_all() == []


async def test_events_of_one_unit_of_work_are_appended_together(
    engine: AsyncEngine, store: EventStore
) -> None:
    with correlation("req-7"):
        async with engine.begin() as conn:
            await outbox.add(
                conn,
                "order-1",
                [
                    NewEvent(type="OrderCreated", data={}),
                    NewEvent(type="PaymentRequested", data={}),
                ],
            )
    await OutboxRelay(engine, store, outbox.table).relay_once()

    events = await store.read_stream("order-1")
    assert [(e.type, e.version, e.correlation_id) for e in events] == [
        ("OrderCreated", 1, "req-7"),
        ("PaymentRequested", 2, "req-7"),
    ]


async def test_two_relays_at_once_publish_each_event_once(
    engine: AsyncEngine, store: EventStore
) -> None:
    for n in range(40):
        await create_game(engine, str(uuid.uuid4()), f"Game {n}")
    relays = [OutboxRelay(engine, store, outbox.table, batch_size=7) for _ in range(2)]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.relay_once():
            pass

    await asyncio.gather(*(drain(r) for r in relays))

    events = await store.read_all()
    assert len(events) == 40
    assert len({e.event_id for e in events}) == 40


async def test_run_relays_promptly_and_stops(engine: AsyncEngine, store: EventStore) -> None:
    relay = OutboxRelay(engine, store, outbox.table, poll_interval=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop=stop))
    await create_game(engine, "g1", "Hades")
    relay.wake()

    assert await store.wait_for_events(after=0, timeout=5)
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_relay_killed_between_append_and_delete_duplicates_nothing(
    engine: AsyncEngine, store: EventStore, database_url: str
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for n, game_id in enumerate(ids):
        await create_game(engine, game_id, f"Game {n}")
    for n, game_id in enumerate(ids):  # each stream's second batch: appended after the first
        await rename_game(engine, game_id, f"Game {n}, renamed")

    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), database_url, database_url, "3", RELAY_OWNER
    )
    assert await child.wait() == -signal.SIGKILL
    assert len(await store.read_all()) == 3  # appended, then killed
    assert await outbox_rows(engine) == 6  # ... before any row was deleted

    await OutboxRelay(engine, store, outbox.table).relay_once()

    events = await store.read_all()
    assert [(e.type, e.data["id"]) for e in events] == [("GameCreated", i) for i in ids] + [
        ("GameRenamed", i) for i in ids
    ]
    assert [e.version for e in events] == [1, 1, 1, 2, 2, 2]
    assert [e.position for e in events] == list(range(1, 7))
    assert await outbox_rows(engine) == 0


# Replicas of a service share its outbox (ADR 015): each relay moves what its own process
# staged, so no two relays append the same rows; what a dead replica staged is anyone's after a
# while; a stream whose events two replicas staged still gets them in order.


def staged_by(monkeypatch: pytest.MonkeyPatch, owner: str) -> None:
    monkeypatch.setattr(outbox_module, "RELAY_OWNER", owner)


async def test_each_replica_s_relay_moves_the_rows_its_process_staged(
    engine: AsyncEngine, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    staged_by(monkeypatch, "replica-1")
    await create_game(engine, first, "First")
    staged_by(monkeypatch, "replica-2")
    await create_game(engine, second, "Second")

    assert await OutboxRelay(engine, store, outbox.table, owner="replica-2").relay_once() == 1
    assert [e.data["id"] for e in await store.read_all()] == [second]
    assert await OutboxRelay(engine, store, outbox.table, owner="replica-2").relay_once() == 0
    assert await OutboxRelay(engine, store, outbox.table, owner="replica-1").relay_once() == 1
    assert [e.data["id"] for e in await store.read_all()] == [second, first]


async def test_what_a_dead_replica_staged_is_moved_by_another_after_a_while(
    engine: AsyncEngine, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged_by(monkeypatch, "replica-that-died")
    await create_game(engine, str(uuid.uuid4()), "Orphan")
    survivor = OutboxRelay(
        engine, store, outbox.table, owner="survivor", orphaned_after=timedelta(seconds=0.5)
    )
    assert await survivor.relay_once() == 0  # its owner may still be about to move it
    await asyncio.sleep(0.6)
    assert await survivor.relay_once() == 1
    assert await outbox_rows(engine) == 0


async def test_a_stream_staged_by_two_replicas_keeps_its_order(
    engine: AsyncEngine, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    game_id = str(uuid.uuid4())
    staged_by(monkeypatch, "replica-1")
    await create_game(engine, game_id, "Created on one")
    staged_by(monkeypatch, "replica-2")
    await rename_game(engine, game_id, "Renamed on the other")

    second = OutboxRelay(engine, store, outbox.table, owner="replica-2")
    with pytest.raises(WrongExpectedVersion):  # its version 2 waits for version 1
        await second.relay_once()
    assert await store.read_all() == []
    assert await OutboxRelay(engine, store, outbox.table, owner="replica-1").relay_once() == 1
    assert await second.relay_once() == 1
    events = await store.read_all()
    assert [(e.type, e.version) for e in events] == [("GameCreated", 1), ("GameRenamed", 2)]
