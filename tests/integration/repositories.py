"""The adapters a service's repository contract runs on: the in-memory one its unit tests use,
and the SQL one on SQLite and on PostgreSQL (a fresh database of its own)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.platform.db import create_engine
from gamestore.platform.outbox import Outbox
from gamestore.platform.uow import NO_RELAY, FakeUnitOfWork, SqlUnitOfWork, UnitOfWork
from tests.conftest import fresh_postgres_database

R = TypeVar("R")
ADAPTERS = ["memory", "sqlite", "postgres"]


@contextlib.asynccontextmanager
async def unit_of_work(
    adapter: str,
    sqlite_file: Path,
    schema: tuple[MetaData, Outbox],
    sql: Callable[[AsyncConnection], R],
    memory: Callable[[], R],
) -> AsyncIterator[UnitOfWork[R]]:
    """A unit of work over ``adapter`` (one of :data:`ADAPTERS`), its tables created."""
    if adapter == "memory":
        yield FakeUnitOfWork(repo=memory())
        return
    metadata, outbox = schema
    async with contextlib.AsyncExitStack() as stack:
        url = f"sqlite:///{sqlite_file}"
        if adapter == "postgres":
            url = await stack.enter_async_context(fresh_postgres_database())
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield SqlUnitOfWork(engine, outbox, sql, wake=NO_RELAY)
