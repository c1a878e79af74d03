"""The relay waits out an event-store outage and then moves everything, once, in order."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, connect
from gamestore.platform.outbox import OutboxRelay
from tests.conftest import fresh_postgres_database
from tests.faultproxy import FaultProxy
from tests.integration.outbox.support import create_game, metadata, outbox

pytestmark = pytest.mark.postgres


async def test_the_relay_waits_out_an_event_store_outage_and_loses_nothing() -> None:
    async with fresh_postgres_database() as service_url, fresh_postgres_database() as store_url:
        engine = create_engine(service_url)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with FaultProxy("127.0.0.1", 5432) as proxy:
            store = await connect(proxy.rewrite(store_url))
            relay = OutboxRelay(engine, store, outbox.table, poll_interval=0.02)
            ids = [str(uuid.uuid4()) for _ in range(6)]
            try:
                async with relay.running():
                    await create_game(engine, ids[0], "Before")
                    await _until_stored(store, 1)
                    proxy.cut()
                    for n, game_id in enumerate(ids[1:]):
                        await create_game(engine, game_id, f"During {n}")
                        relay.wake()
                    await asyncio.sleep(1.5)  # the relay keeps failing meanwhile
                    assert await _outbox_rows(engine) == 5
                    await proxy.restored()
                    await _until_stored(store, 6)
                events = await store.read_all()
                assert [event.data["id"] for event in events] == ids
                assert await _outbox_rows(engine) == 0
            finally:
                await store.close()
                await engine.dispose()


async def _outbox_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count = await conn.execute(select(func.count()).select_from(outbox.table))
        return int(count.scalar_one())


async def _until_stored(store: EventStore, count: int, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(await store.read_all()) < count:
        assert asyncio.get_running_loop().time() < deadline, f"never {count} events stored"
        await asyncio.sleep(0.05)
