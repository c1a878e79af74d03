"""SQLite for asyncio without a thread hop per statement.

A small driver library of its own (it imports nothing of GameStore): the services' databases,
the event store and the PSP simulator all use it.

aiosqlite runs every call on a thread of its own and hands the answer back through the event
loop: per statement a queue put, a thread wake-up, ``call_soon_threadsafe`` and a loop wake-up.
SQLite in WAL mode answers most statements in microseconds, so that hand-off is most of the
cost (measured: 3.2 ms of CPU per three-statement transaction through SQLAlchemy + aiosqlite,
1.2 ms inline; ADR 009). This module offers the part of aiosqlite's interface that SQLAlchemy's
``sqlite+aiosqlite`` dialect (through ``async_creator``) and the SQLite event store use, and runs
each call on the event loop's thread, straight away.

What it asks of its users, and what ``platform.db`` and the event store give it:

- one connection per database per process for writes (a pool of one, or an ``asyncio.Lock``),
  so that a transaction suspended at an ``await`` between two statements never leaves another
  coroutine of the same process blocking the thread in SQLite's busy handler for a lock that only
  the suspended one can release;
- short write transactions: while another process holds the write lock, ``BEGIN IMMEDIATE``
  waits in SQLite's busy handler on this thread (as long as that transaction lasts).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

Params = Sequence[Any] | dict[str, Any]
Row = tuple[Any, ...]


class Cursor:
    """An awaitable facade over a ``sqlite3.Cursor``; every method runs at once."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def execute(self, sql: str, parameters: Params = ()) -> Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Row | None:
        row: Row | None = self._cursor.fetchone()
        return row

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        return self._cursor.fetchmany() if size is None else self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

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

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cursor.close()


class _Done:
    """A finished call that can be awaited (``await conn.execute(...)``) or entered
    (``async with conn.execute(...) as cursor``), as aiosqlite's results can."""

    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._cursor
        yield  # a generator that never suspends

    async def __aenter__(self) -> Cursor:
        return self._cursor

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._tx = _RunNow()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    def execute(self, sql: str, parameters: Params = ()) -> _Done:
        return _Done(Cursor(self._conn.execute(sql, parameters)))

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> Cursor:
        return Cursor(self._conn.executemany(sql, parameters))

    async def executescript(self, script: str) -> Cursor:
        return Cursor(self._conn.executescript(script))

    async def execute_fetchall(self, sql: str, parameters: Params = ()) -> list[Row]:
        return self._conn.execute(sql, parameters).fetchall()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


async def connect(path: str | Path, *, timeout: float = 30.0) -> Connection:
    """An autocommit connection (``BEGIN``/``COMMIT`` are the caller's) to the file ``path``,
    waiting up to ``timeout`` seconds for another process's write lock."""
    return Connection(
        sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    )
