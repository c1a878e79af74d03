"""SQLite for asyncio without a thread hop per statement.

A small driver library of its own (it imports nothing of GameStore): the services' databases,
the event store and the PSP simulator all use it.

aiosqlite runs every call on a thread of its own and hands the answer back through the event
loop: per statement a queue put, a thread wake-up, ``call_soon_threadsafe`` and a loop wake-up.
SQLite in WAL mode answers most statements in microseconds, so that hand-off is most of the
cost (``bench/sqlite_driver.py``: 3.1 ms of CPU per three-statement transaction through
SQLAlchemy + aiosqlite, 1.1 ms inline; ADR 009). This module offers the part of aiosqlite's
interface that SQLAlchemy's ``sqlite+aiosqlite`` dialect (through ``async_creator``) and the
SQLite event store use, and runs each call on the event loop's thread, straight away.

**Waiting for a lock never blocks the loop.** SQLite's own busy handler would sleep on this
thread while another connection holds the write lock; when that connection belongs to this
same process and is waiting for its turn on the loop (SQLAlchemy closes connections from a task
of their own), the two would wait on each other until the timeout. So connections are opened
with no busy timeout, and a statement refused with ``SQLITE_BUSY`` is tried again after an
``asyncio.sleep`` (1 ms, doubling to 50 ms) until ``timeout`` seconds have passed. A refused
statement has done nothing, so trying it again is safe; ``SQLITE_BUSY_SNAPSHOT`` (a read
transaction that may not become a write one) is raised at once, as waiting cannot help it.
Do not set ``PRAGMA busy_timeout`` on these connections.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

Params = Sequence[Any] | dict[str, Any]
Row = tuple[Any, ...]
T = TypeVar("T")

FIRST_WAIT = 0.001  # seconds before the first new try of a statement refused by a lock
LONGEST_WAIT = 0.05
_BUSY_SNAPSHOT = 517  # SQLITE_BUSY | (2 << 8)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code: int = error.sqlite_errorcode
    return code & 0xFF == sqlite3.SQLITE_BUSY and code != _BUSY_SNAPSHOT


async def _patiently(call: Callable[[], T], timeout: float) -> T:
    """``call()``, tried again while SQLite answers that another connection holds the lock."""
    deadline = time.monotonic() + timeout
    wait = FIRST_WAIT
    while True:
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(wait)
        wait = min(wait * 2, LONGEST_WAIT)


class Cursor:
    """An awaitable facade over a ``sqlite3.Cursor``; every method runs at once."""

    def __init__(self, cursor: sqlite3.Cursor, timeout: float) -> None:
        self._cursor = cursor
        self._timeout = timeout

    async def execute(self, sql: str, parameters: Params = ()) -> Cursor:
        await _patiently(lambda: self._cursor.execute(sql, parameters), self._timeout)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> Cursor:
        rows = list(parameters)
        await _patiently(lambda: self._cursor.executemany(sql, rows), self._timeout)
        return self

    async def fetchone(self) -> Row | None:
        row: Row | None = await _patiently(self._cursor.fetchone, self._timeout)
        return row

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        if size is None:
            return await _patiently(self._cursor.fetchmany, self._timeout)
        return await _patiently(lambda: self._cursor.fetchmany(size), self._timeout)

    async def fetchall(self) -> list[Row]:
        return await _patiently(self._cursor.fetchall, self._timeout)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class _Executing:
    """``conn.execute(...)``: awaited for its cursor, or entered (``async with``) to have the
    cursor closed on the way out, as aiosqlite's results can be."""

    def __init__(self, running: Coroutine[Any, Any, Cursor]) -> None:
        self._running = running
        self._cursor: Cursor | None = None

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._running.__await__()

    async def __aenter__(self) -> Cursor:
        self._cursor = await self._running
        return self._cursor

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class _RunNow:
    """Stands in for aiosqlite's request queue (SQLAlchemy's dialect puts a (future, function)
    pair on ``connection._tx`` to set the isolation level): runs the function at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class Connection:
    """The subset of ``aiosqlite.Connection`` that SQLAlchemy and the event store use."""

    def __init__(self, connection: sqlite3.Connection, timeout: float) -> None:
        self._conn = connection
        self._timeout = timeout
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor(), self._timeout)

    def execute(self, sql: str, parameters: Params = ()) -> _Executing:
        return _Executing(self._execute(sql, parameters))

    async def _execute(self, sql: str, parameters: Params) -> Cursor:
        return await Cursor(self._conn.cursor(), self._timeout).execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> Cursor:
        return await Cursor(self._conn.cursor(), self._timeout).executemany(sql, parameters)

    async def executescript(self, script: str) -> Cursor:
        cursor = await self._when_free(lambda: self._conn.executescript(script))
        return Cursor(cursor, self._timeout)

    async def execute_fetchall(self, sql: str, parameters: Params = ()) -> list[Row]:
        cursor = await self._execute(sql, parameters)
        try:
            return await cursor.fetchall()
        finally:
            await cursor.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        await self._when_free(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    def _when_free(self, call: Callable[[], T]) -> Awaitable[T]:
        return _patiently(call, self._timeout)


async def connect(path: str | Path, *, timeout: float = 30.0) -> Connection:
    """An autocommit connection (``BEGIN``/``COMMIT`` are the caller's) to the file ``path``;
    a statement refused by another connection's lock is tried again for up to ``timeout``
    seconds, without blocking the loop."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    return Connection(connection, timeout)
