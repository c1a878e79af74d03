"""The unit of work: state and events commit together, and the relay is woken after commit.

The SQL unit of work runs here on an in-memory SQLite database (its outbox table is the one every
service declares); the in-memory one is held to the same behaviour."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gamestore.platform.events import Event
from gamestore.platform.eventstore import ANY, NO_STREAM, NewEvent
from gamestore.platform.outbox import Outbox, outbox_table
from gamestore.platform.uow import FakeUnitOfWork, SqlUnitOfWork

metadata = MetaData()
things = Table("things", metadata, Column("id", String(36), primary_key=True))
outbox = Outbox(outbox_table(metadata))


class ThingMade(Event):
    TYPE = "TestThingMade"
    thing_id: str


class Things:
    """A repository on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, thing_id: str) -> None:
        await self.conn.execute(things.insert().values(id=thing_id))


class Boom(Exception):
    pass


@pytest.fixture
def engine() -> Any:
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")

    async def create() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    asyncio.run(create())
    yield engine
    asyncio.run(engine.dispose())


def rows(engine: Any, table: Table) -> list[Any]:
    async def read() -> list[Any]:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.select(table))).all())

    return asyncio.run(read())


def test_state_and_events_commit_together_then_the_relay_is_woken(engine: Any) -> None:
    happened: list[str] = []
    sa.event.listen(engine.sync_engine, "commit", lambda _conn: happened.append("commit"))
    uow = SqlUnitOfWork(engine, outbox, Things, wake=lambda: happened.append("wake"))

    async def make() -> None:
        async with uow() as tx:
            await tx.repo.add("t1")
            tx.emit("thing-t1", ThingMade(thing_id="t1"), NO_STREAM)
            assert happened == []

    asyncio.run(make())
    assert [r.id for r in rows(engine, things)] == ["t1"]
    staged = rows(engine, outbox.table)
    assert [(r.stream_id, r.type, r.data, r.expected_version) for r in staged] == [
        ("thing-t1", "TestThingMade", {"thing_id": "t1"}, 0)
    ]
    assert happened == ["commit", "wake"]  # once, after the commit


def test_an_error_writes_nothing_and_wakes_nobody(engine: Any) -> None:
    woken: list[None] = []
    uow = SqlUnitOfWork(engine, outbox, Things, wake=lambda: woken.append(None))

    async def fail() -> None:
        async with uow() as tx:
            await tx.repo.add("t2")
            tx.emit("thing-t2", ThingMade(thing_id="t2"), NO_STREAM)
            raise Boom

    with pytest.raises(Boom):
        asyncio.run(fail())
    assert rows(engine, things) == []
    assert rows(engine, outbox.table) == []
    assert woken == []


def test_a_commit_that_emits_nothing_wakes_nobody(engine: Any) -> None:
    woken: list[None] = []
    uow = SqlUnitOfWork(engine, outbox, Things, wake=lambda: woken.append(None))

    async def quiet() -> None:
        async with uow() as tx:
            await tx.repo.add("t3")

    asyncio.run(quiet())
    assert [r.id for r in rows(engine, things)] == ["t3"]
    assert woken == []


def test_several_streams_and_hand_built_envelopes_keep_their_order_and_ids(engine: Any) -> None:
    uow = SqlUnitOfWork(engine, outbox, Things, wake=lambda: None)
    derived = NewEvent("TestThingMade", {"thing_id": "b"}, causation_id="cause")

    async def both() -> None:
        async with uow() as tx:
            tx.emit("thing-a", [ThingMade(thing_id="a"), ThingMade(thing_id="a2")], 3)
            tx.emit("thing-b", derived, ANY)
            tx.emit("thing-c", [], NO_STREAM)  # nothing to stage

    asyncio.run(both())
    staged = rows(engine, outbox.table)
    assert [(r.stream_id, r.expected_version) for r in staged] == [
        ("thing-a", 3),
        ("thing-a", 3),
        ("thing-b", -1),
    ]
    assert staged[2].event_id == str(derived.event_id)
    assert staged[2].causation_id == "cause"
    assert staged[0].batch_id == staged[1].batch_id != staged[2].batch_id


def test_the_in_memory_unit_of_work_keeps_only_what_committed() -> None:
    uow: FakeUnitOfWork[dict[str, str]] = FakeUnitOfWork(repo={})

    async def run() -> None:
        async with uow() as tx:
            tx.repo["t1"] = "made"
            tx.emit("thing-t1", ThingMade(thing_id="t1"), NO_STREAM)
        with pytest.raises(Boom):
            async with uow() as tx:
                tx.emit("thing-t2", ThingMade(thing_id="t2"), NO_STREAM)
                raise Boom
        async with uow() as tx:
            pass
        async with uow.read() as repo:
            assert repo == {"t1": "made"}

    asyncio.run(run())
    assert uow.types() == ["TestThingMade"]
    assert [e.data for e in uow.events("thing-t1")] == [{"thing_id": "t1"}]
    assert uow.events("thing-t2") == []
    assert (uow.commits, uow.wakes) == (2, 1)
