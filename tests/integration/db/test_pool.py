"""A service's PostgreSQL pool survives the server closing its connections, without paying a
round trip per transaction to find out (``platform/db.py``)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from gamestore.platform.db import create_engine, read_only
from tests.conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres


async def _backend(engine_url: str) -> tuple[int, int]:
    """Two transactions' backend pids, after the server terminated the first one's."""
    engine = create_engine(engine_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(engine_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled connection
        async with engine.begin() as conn:  # no error: the dead connection is replaced
            second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return first, second
    finally:
        await engine.dispose()


async def test_a_connection_the_server_closed_is_replaced_before_it_is_used() -> None:
    async with fresh_postgres_database() as url:
        first, second = await _backend(url)
    assert second != first


async def test_a_transaction_costs_no_ping_round_trips() -> None:
    """A transaction's own BEGIN and COMMIT around its statements (which asyncpg runs as
    prepared statements, not logged here), and no ``pool_pre_ping``'s BEGIN, ping and ROLLBACK
    before them."""
    async with fresh_postgres_database() as url:
        engine = create_engine(url)
        statements: list[str] = []
        try:
            async with engine.begin() as conn:  # the pool's first connection, warmed up
                await conn.execute(text("SELECT 1"))
            raw = await (await engine.connect()).get_raw_connection()
            asyncpg_conn = raw.driver_connection
            assert asyncpg_conn is not None
            asyncpg_conn.add_query_logger(lambda record: statements.append(record.query))
            raw.close()  # back to the pool: the next checkout gets the same connection
            async with engine.begin() as conn:
                await conn.execute(text("SELECT 2"))
        finally:
            await engine.dispose()
    assert statements == ["BEGIN;", "COMMIT;"]


async def test_a_read_only_look_on_postgresql_is_one_round_trip() -> None:
    """No BEGIN and COMMIT around a read (at READ COMMITTED each statement has its own snapshot
    either way); the connection goes back to the pool ready for a transaction."""
    async with fresh_postgres_database() as url:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        statements: list[str] = []
        try:
            async with read_only(engine) as conn:  # warm: the pool's one connection
                await conn.execute(text("SELECT 1"))
            raw = await (await engine.connect()).get_raw_connection()
            asyncpg_conn = raw.driver_connection
            assert asyncpg_conn is not None
            asyncpg_conn.add_query_logger(lambda record: statements.append(record.query))
            raw.close()
            async with read_only(engine) as conn:
                assert (await conn.execute(text("SELECT 2"))).scalar_one() == 2
            async with engine.begin() as conn:  # a write afterwards is a transaction again
                await conn.execute(text("SELECT 3"))
        finally:
            await engine.dispose()
    begin, commit = statements  # the write's transaction only, at the server's default level
    assert begin in ("BEGIN;", "BEGIN ISOLATION LEVEL READ COMMITTED;") and commit == "COMMIT;"
