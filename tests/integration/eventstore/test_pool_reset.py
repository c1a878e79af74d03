"""The PostgreSQL event store's pooled connections go back to the pool without asyncpg's reset
query: a round trip saved on every append and read."""

from __future__ import annotations

import pytest

from gamestore.platform.eventstore import NewEvent
from gamestore.platform.eventstore.postgres import PostgresEventStore
from tests.conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres


async def test_a_read_and_an_append_send_only_their_own_statements() -> None:
    async with fresh_postgres_database() as url:
        store = await PostgresEventStore.connect(url, pool_size=1)
        sent: list[str] = []
        try:
            await store.append("s-1", [NewEvent("Happened", {"n": 1})])  # types introspected
            async with store._pool.acquire() as conn:  # the pool's only connection
                conn.add_query_logger(lambda record: sent.append(record.query))
            await store.append("s-1", [NewEvent("Happened", {"n": 2})])
            assert await store.head() == 2
        finally:
            await store.close()
    assert len(sent) == 2, sent
    assert not [q for q in sent if "RESET" in q.upper() or "UNLISTEN" in q.upper()], sent
