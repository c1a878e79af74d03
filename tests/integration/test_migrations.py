"""Every migration history upgrades an empty database to head on SQLite and on PostgreSQL, to
exactly the schema its models describe; upgrading again changes nothing; concurrent upgrades
run the migrations once; and a process refuses a database whose schema is behind its code."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from gamestore.migrations import (
    HISTORIES,
    SchemaNotCurrent,
    current,
    differences,
    ensure_schema,
    history,
    upgrade,
)
from gamestore.platform.config import Settings
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import connect


@pytest.mark.parametrize("name", list(HISTORIES))
async def test_each_history_upgrades_from_empty_to_exactly_its_models(
    name: str, database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        assert await current(engine, name) is None
        assert await upgrade(engine, name) == (None, history(name).head)
        async with engine.connect() as conn:
            assert await conn.run_sync(differences, name) == []
        assert await upgrade(engine, name) == (history(name).head,) * 2  # idempotent
    finally:
        await engine.dispose()


async def test_histories_share_a_database_without_touching_each_other(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        for name in HISTORIES:
            await upgrade(engine, name)
        async with engine.connect() as conn:
            for name in HISTORIES:
                assert await conn.run_sync(differences, name) == [], name
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert {f"alembic_version_{name}" for name in HISTORIES} <= set(tables)
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_migrate_once(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(upgrade(engine, "games") for engine in engines))
        head = history("games").head
        assert sorted(results, key=str) == sorted([(None, head)] + [(head, head)] * 3, key=str)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_the_migrated_event_store_is_append_only(database_url: str) -> None:
    store = await connect(database_url)  # migrates: the tests' MIGRATE_ON_START
    try:
        from gamestore.platform.eventstore import NewEvent

        await store.append("game-1", [NewEvent("GameCreated", {"title": "Celeste"})])
    finally:
        await store.close()
    engine = create_engine(database_url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(sa.text("DELETE FROM es_events"))
    finally:
        await engine.dispose()


async def test_a_schema_behind_the_code_is_refused_with_the_command_that_fixes_it(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(SchemaNotCurrent) as refused:
            await ensure_schema(engine, "users", migrate=False)
        assert "gamestore migrate users" in str(refused.value)
        assert await current(engine, "users") is None  # and nothing was created
        await ensure_schema(engine, "users", migrate=True)
        await ensure_schema(engine, "users", migrate=False)  # at head: goes on
    finally:
        await engine.dispose()


async def test_a_schema_newer_than_the_code_is_started_on(database_url: str) -> None:
    """A rollout migrates before it replaces processes; migrations only add, so a process of
    the previous version restarting meanwhile runs on the newer schema."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "users")
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE alembic_version_users SET version_num = '0099'"))
        await ensure_schema(engine, "users", migrate=False)
    finally:
        await engine.dispose()


async def test_the_event_store_refuses_an_unmigrated_postgres_database(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMESTORE_MIGRATE_ON_START", "0")  # production's rule
    with pytest.raises(SchemaNotCurrent, match="gamestore migrate eventstore"):
        await connect(postgres_url)


def test_an_embedded_database_is_migrated_by_default_a_postgres_one_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gamestore.migrations import migrates_on_start

    monkeypatch.delenv("GAMESTORE_MIGRATE_ON_START")
    assert migrates_on_start("sqlite:///data/users.db")
    assert not migrates_on_start("postgresql://db/users")
    monkeypatch.setenv("GAMESTORE_MIGRATE_ON_START", "1")
    assert migrates_on_start("postgresql://db/users")
    assert migrates_on_start("postgresql://db/users", Settings()) is True


def _gamestore(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gamestore", *args],
        env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_service_on_an_unmigrated_postgres_database_refuses_to_start(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {
        "GAMESTORE_MIGRATE_ON_START": "0",
        "GAMESTORE_USERS_DB_URL": postgres_url,
        "GAMESTORE_EVENTSTORE_URL": postgres_url,
        "GAMESTORE_USERS_URL": "http://127.0.0.1:0",
    }
    refused = _gamestore("serve", "users", env=env, cwd=tmp_path)
    said = refused.stdout + refused.stderr
    assert refused.returncode == 1
    assert "cannot start: a database schema is behind this code" in said
    assert "Run `gamestore migrate" in said
    assert "Traceback" not in said  # an operator's missing step, said plainly

    migrated = _gamestore("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert f"users: empty -> {history('users').head}" in migrated.stdout
    assert f"eventstore: empty -> {history('eventstore').head}" in migrated.stdout
    again = _gamestore("migrate", "users", env=env, cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout.strip().startswith(f"users: at {history('users').head}, up to date")


def test_migrate_names_the_unknown_database(tmp_path: Path) -> None:
    english = {"LANG": "en_US.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}
    result = _gamestore("migrate", "wishlist", env=english, cwd=tmp_path)
    assert result.returncode == 2
    assert "no database called 'wishlist'" in result.stderr
    portuguese = _gamestore("migrate", "wishlist", env={**english, "LANG": "C.UTF-8"}, cwd=tmp_path)
    assert "não há banco de dados chamado 'wishlist'" in portuguese.stderr


def _upgrade_to(conn: sa.Connection, name: str, revision: str) -> None:
    from alembic import command

    command.upgrade(history(name).config(conn), revision)


async def test_a_database_at_an_older_revision_is_refused_then_upgraded_keeping_its_rows(
    database_url: str,
) -> None:
    """A games database of the release before the outbox's ``relay_owner``: processes refuse
    it, ``migrate`` adds the column, and the row staged by the old release is still moved."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "games", "0001")
            await conn.execute(
                sa.text(
                    "INSERT INTO outbox (batch_id, event_id, stream_id, type, data,"
                    " expected_version, created_at) VALUES ('b', 'e', 's', 'T', '{}', -1,"
                    " CURRENT_TIMESTAMP)"
                )
            )
        assert await current(engine, "games") == "0001"
        with pytest.raises(SchemaNotCurrent, match="has revision 0001"):
            await ensure_schema(engine, "games", migrate=False)
        assert await upgrade(engine, "games") == ("0001", history("games").head)
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT event_id, relay_owner FROM outbox"))).all()
            assert await conn.run_sync(differences, "games") == []
        assert [tuple(row) for row in rows] == [("e", None)]  # anyone's to move
    finally:
        await engine.dispose()
