"""A real event store, a real search index and the indexer's own database, in tmp dirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.migrations import upgrade
from gamestore.platform.config import sqlite_url
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import EventStore, connect
from gamestore.search.index import SearchIndex, open_search
from gamestore.search.indexer.handler import Indexer


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    events = await connect(sqlite_url(tmp_path / "events.db"))
    yield events
    await events.close()


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[SearchIndex]:
    search = await open_search(tmp_path / "search")
    yield search
    await search.close()


@pytest.fixture
async def indexer_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url(tmp_path / "indexer.db"))
    await upgrade(engine, "indexer")
    yield engine
    await engine.dispose()


@pytest.fixture
def indexer(index: SearchIndex, indexer_engine: AsyncEngine) -> Indexer:
    return Indexer(index, indexer_engine)
