"""The transient/permanent rule, on errors the real drivers raise (closed ports, locked files)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from gamestore.platform.db import create_engine
from gamestore.platform.faults import (
    OutageLog,
    Pause,
    Stopped,
    TransientError,
    is_transient,
    retry_after_of,
    until_available,
)
from tests.ports import free_port


async def test_a_refused_postgresql_connection_is_transient() -> None:
    with pytest.raises(Exception) as raised:
        await asyncpg.connect(f"postgresql://root@127.0.0.1:{free_port()}/x", timeout=2)
    assert is_transient(raised.value)


async def test_sqlalchemy_over_a_closed_port_is_transient() -> None:
    engine = create_engine(f"postgresql://root@127.0.0.1:{free_port()}/x")
    try:
        with pytest.raises(Exception) as raised:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert is_transient(raised.value), repr(raised.value)
    finally:
        await engine.dispose()


async def test_an_http_call_to_a_closed_port_is_transient() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError) as raised:
            await session.get(f"http://127.0.0.1:{free_port()}/")
    assert is_transient(raised.value)


def test_a_locked_sqlite_database_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            other.execute("BEGIN IMMEDIATE")
        assert is_transient(raised.value)
    finally:
        other.close()
        holder.close()


async def test_a_bug_or_a_constraint_is_permanent(tmp_path: Path) -> None:
    assert not is_transient(ValueError("bad"))
    assert not is_transient(KeyError("payment_id"))
    assert not is_transient(sqlite3.OperationalError("no such table: games"))
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError) as raised:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert not is_transient(raised.value)
    finally:
        await engine.dispose()


def test_asyncpg_s_confusion_while_the_server_shuts_down_is_transient() -> None:
    # asyncpg raised this from the pool's connection reset during a PostgreSQL restart
    confused = asyncpg.exceptions.InternalClientError(
        "cannot switch to state 15; another operation (2) is in progress"
    )
    assert is_transient(confused)
    shutting_down = asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")
    assert is_transient(shutting_down)
    assert not is_transient(asyncpg.exceptions.UniqueViolationError("duplicate key"))


def test_a_cause_makes_its_wrapper_transient() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset")
        except ConnectionResetError as error:
            raise RuntimeError("while saving") from error
    except RuntimeError as wrapped:
        assert is_transient(wrapped)


def test_retry_after_is_read_and_honoured() -> None:
    error = TransientError("PSP 503", retry_after=7.0)
    assert is_transient(error)
    assert retry_after_of(error) == 7.0
    assert retry_after_of(ConnectionRefusedError()) is None
    pause = Pause(first=0.1, cap=2.0, longest=60.0)
    assert pause.delay(1, retry_after=7.0) == 7.0
    assert pause.delay(1, retry_after=600.0) == 60.0  # a dependency cannot park us for ages


def test_the_pause_grows_to_its_cap_with_jitter() -> None:
    pause = Pause(first=0.1, cap=2.0)
    assert 0.05 <= pause.delay(1) <= 0.1
    assert 0.1 <= pause.delay(2) <= 0.2
    assert all(1.0 <= pause.delay(tries) <= 2.0 for tries in (6, 10, 100))


async def test_until_available_waits_out_an_outage_and_stops_on_request() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionRefusedError(111, "Connect call failed")
        return "ok"

    stop = asyncio.Event()
    fast = Pause(first=0.001, cap=0.002)
    assert await until_available(flaky, stop=stop, what="thing", pause=fast) == "ok"
    assert calls == 4

    async def down() -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    stop.set()
    with pytest.raises(Stopped):
        await until_available(down, stop=stop, what="thing", pause=fast)


async def test_until_available_lets_a_permanent_error_through_at_once() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await until_available(broken, stop=asyncio.Event(), what="thing")
    assert calls == 1


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_an_outage_is_logged_when_it_starts_and_ends_not_at_every_try() -> None:
    collected, logger = Collected(), logging.getLogger("gamestore.faults")
    level = logger.level
    logger.addHandler(collected)
    logger.setLevel(logging.INFO)
    try:
        outage = OutageLog("event store", every=3600)
        for _ in range(50):
            outage.failed(ConnectionRefusedError(111, "refused"))
        assert outage.ongoing and outage.tries == 50
        outage.recovered()
    finally:
        logger.removeHandler(collected)
        logger.setLevel(level)
    assert not outage.ongoing
    assert collected.messages == ["event store unavailable; pausing", "event store available again"]
