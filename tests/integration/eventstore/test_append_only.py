"""Append-only is enforced by the database itself, not by our code's good manners."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from gamestore.platform.config import sqlite_path
from gamestore.platform.eventstore import NewEvent, connect


async def _seed(url: str) -> None:
    store = await connect(url)
    await store.append("game-1", [NewEvent(type="GameCreated", data={"title": "x"})])
    await store.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE es_events SET type = 'Forged'",
        "DELETE FROM es_events",
        "TRUNCATE es_events",
    ],
)
async def test_postgres_rejects_changes_to_stored_events(postgres_url: str, statement: str) -> None:
    await _seed(postgres_url)
    conn = await asyncpg.connect(postgres_url)
    try:
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute(statement)
        assert await conn.fetchval("SELECT type FROM es_events") == "GameCreated"
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "statement", ["UPDATE es_events SET type = 'Forged'", "DELETE FROM es_events"]
)
async def test_sqlite_rejects_changes_to_stored_events(sqlite_url: str, statement: str) -> None:
    await _seed(sqlite_url)
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(statement)
        assert conn.execute("SELECT type FROM es_events").fetchone() == ("GameCreated",)
    finally:
        conn.close()
