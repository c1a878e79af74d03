"""``inline_sqlite``: statements run on the loop's thread; waiting for a lock never blocks it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import inline_sqlite


async def _open(path: Path, timeout: float = 5.0) -> inline_sqlite.Connection:
    conn = await inline_sqlite.connect(path, timeout=timeout)
    await conn.execute("PRAGMA journal_mode=WAL")
    return conn


async def test_a_lock_held_by_a_suspended_transaction_of_this_process_is_waited_for(
    tmp_path: Path,
) -> None:
    """The holder commits only when the loop runs it again: a blocking wait would never end."""
    path = tmp_path / "one.db"
    holder, waiter = await _open(path), await _open(path)
    await holder.execute("CREATE TABLE t (n INTEGER)")
    await holder.execute("BEGIN IMMEDIATE")
    await holder.execute("INSERT INTO t VALUES (1)")

    async def commit_later() -> None:
        await asyncio.sleep(0.2)
        await holder.commit()

    committing = asyncio.create_task(commit_later())
    started = time.monotonic()
    await waiter.execute("INSERT INTO t VALUES (2)")  # refused until the holder commits
    waited = time.monotonic() - started
    await committing

    assert 0.15 < waited < 2.0
    assert await waiter.execute_fetchall("SELECT n FROM t ORDER BY n") == [(1,), (2,)]
    for conn in (holder, waiter):
        await conn.close()


async def test_the_loop_keeps_running_while_another_process_holds_the_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "two.db"
    conn = await _open(path)
    await conn.execute("CREATE TABLE t (n INTEGER)")
    locked, release = threading.Event(), threading.Event()

    def other_writer() -> None:  # another connection, on another thread, as another process
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    locked.wait(5)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.3, release.set)
    await conn.execute("INSERT INTO t VALUES (1)")
    ticking.cancel()
    thread.join()

    assert ticks >= 10  # the loop went on while the insert waited for the lock
    await conn.close()


async def test_a_lock_never_released_fails_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "three.db"
    holder, waiter = await _open(path), await _open(path, timeout=0.3)
    await holder.execute("CREATE TABLE t (n INTEGER)")
    await holder.execute("BEGIN IMMEDIATE")

    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await waiter.execute("BEGIN IMMEDIATE")

    assert 0.25 < time.monotonic() - started < 2.0
    await holder.rollback()
    for conn in (holder, waiter):
        await conn.close()
