"""Stores and outboxes created before events carried their ``traceparent`` (and before
migrations) are adopted by the baseline migration: they get the column, keep their events,
and take traced events from then on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from gamestore.migrations import current, history, upgrade
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import NewEvent, connect

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
OLD_EVENTS = """
CREATE TABLE es_events (
    position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
    version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, occurred_at TEXT NOT NULL,
    correlation_id TEXT, causation_id TEXT, UNIQUE (stream_id, version));
INSERT INTO es_events VALUES (1, '6f1c1a43-64d5-4bb8-a4a4-3c3b8a1bf3f1', 'game-1', 1,
    'GameCreated', '{}', '2026-01-01T00:00:00+00:00', 'req-1', NULL);
"""


async def test_an_sqlite_event_store_of_the_previous_shape_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_EVENTS)
    store = await connect(f"sqlite:///{path}")
    try:
        [kept] = await store.read_all(0, 10)
        assert (kept.type, kept.traceparent) == ("GameCreated", None)
        await store.append("game-2", [NewEvent("GameCreated", {}, traceparent=TRACEPARENT)])
        assert (await store.read_stream("game-2"))[0].traceparent == TRACEPARENT
    finally:
        await store.close()
    again = await connect(f"sqlite:///{path}")  # the next start finds the column there
    await again.close()


async def test_an_outbox_of_the_previous_shape_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "games.db"
    with sqlite3.connect(path) as old:  # the outbox as the previous version made it
        old.execute(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY, batch_id VARCHAR(36) NOT NULL,"
            " event_id VARCHAR(36) NOT NULL UNIQUE, stream_id VARCHAR(200) NOT NULL,"
            " type VARCHAR(100) NOT NULL, data JSON NOT NULL, expected_version INTEGER NOT NULL,"
            " correlation_id VARCHAR(255), causation_id VARCHAR(255), created_at DATETIME NOT NULL)"
        )
    engine = create_engine(f"sqlite:///{path}")
    try:
        head = history("games").head
        assert await upgrade(engine, "games") == (None, head)
        assert await upgrade(engine, "games") == (head, head)  # and again: nothing to do
        async with engine.connect() as conn:
            columns = await conn.run_sync(lambda c: sa.inspect(c).get_columns("outbox"))
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert "traceparent" in {column["name"] for column in columns}
        assert {"games", "orders", "library"} <= set(tables)  # the rest of the schema made
        assert await current(engine, "games") == head
    finally:
        await engine.dispose()
