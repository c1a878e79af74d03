"""The embedded index's version table: which version of each game it holds.

An SQLite file beside the index, written only by the single writer. A row survives deletion as a
tombstone (``deleted = 1``) so a stale upsert arriving after the delete is recognised. It also
keeps each game's document and purchase count, because the engine cannot update one field in
place: a popularity change re-adds the whole document.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from pathlib import Path

from gamestore.search.index.model import GameDocument

SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    popularity INTEGER NOT NULL DEFAULT 0,
    document TEXT
)
"""


class VersionTable:
    """Blocking SQLite access; called from the adapter's worker thread only."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)

    def newer(self, game_id: str, version: int) -> bool:
        """Whether ``version`` is newer than anything (document or tombstone) held for the id."""
        row = self._db.execute("SELECT version FROM games WHERE id = ?", (game_id,)).fetchone()
        return row is None or version > row[0]

    def popularity(self, game_id: str) -> int:
        row = self._db.execute("SELECT popularity FROM games WHERE id = ?", (game_id,)).fetchone()
        return int(row[0]) if row else 0

    def document(self, game_id: str) -> GameDocument | None:
        """The live document for the id with its current popularity, or None."""
        row = self._db.execute(
            "SELECT document, popularity FROM games WHERE id = ? AND deleted = 0", (game_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        fields = json.loads(row[0])
        fields["release_date"] = date.fromisoformat(fields["release_date"])
        fields["popularity"] = row[1]
        return GameDocument(**fields)

    def record_many(self, docs: list[GameDocument]) -> None:
        """Record these documents as the versions held (after the index committed them)."""
        rows = [(d.id, d.version, _encode(d)) for d in docs]
        with self._transaction():
            self._db.executemany(
                "INSERT INTO games (id, version, deleted, document) VALUES (?, ?, 0, ?) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = 0, "
                "document = excluded.document",
                rows,
            )

    def record_delete(self, game_id: str, version: int) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO games (id, version, deleted) VALUES (?, ?, 1) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version, deleted = 1, "
                "document = NULL",
                (game_id, version),
            )

    def add_popularity(self, game_id: str, delta: int) -> int:
        """Add ``delta`` purchases; returns the new count."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO games (id, popularity) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET popularity = popularity + excluded.popularity",
                (game_id, delta),
            )
        return self.popularity(game_id)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _encode(doc: GameDocument) -> str:
    fields = asdict(doc)
    fields.pop("popularity")
    return json.dumps(fields, default=str)
