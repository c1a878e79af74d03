"""Each process's PostgreSQL pools are sized by ``GAMESTORE_DB_POOL_SIZE`` and
``GAMESTORE_DB_MAX_OVERFLOW``: replicas times pools must fit the server's max_connections."""

from __future__ import annotations

import pytest

from gamestore.platform.db import create_engine


def test_postgres_pools_take_their_size_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMESTORE_DB_POOL_SIZE", "4")
    monkeypatch.setenv("GAMESTORE_DB_MAX_OVERFLOW", "2")
    engine = create_engine("postgresql://db.invalid/games")  # nothing connects
    pool = engine.sync_engine.pool
    assert (pool.size(), pool._max_overflow) == (4, 2)


def test_by_default_ten_and_ten_more_in_a_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GAMESTORE_DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("GAMESTORE_DB_MAX_OVERFLOW", raising=False)
    pool = create_engine("postgresql://db.invalid/games").sync_engine.pool
    assert (pool.size(), pool._max_overflow) == (10, 10)


def test_an_explicit_size_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMESTORE_DB_POOL_SIZE", "4")
    pool = create_engine("postgresql://db.invalid/x", pool_size=1, max_overflow=0).sync_engine.pool
    assert (pool.size(), pool._max_overflow) == (1, 0)
