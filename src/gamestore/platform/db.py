"""A service's own database, by URL: SQLite (embedded default) or PostgreSQL.

SQLAlchemy Core with async drivers: asyncpg, and for SQLite the ``sqlite+aiosqlite`` dialect over
``inline_sqlite`` (statements run on the loop's thread, no hop per statement; ADR 009).
On SQLite a process holds one connection per database (a pool of one: two transactions of one
process never wait on each other inside SQLite), and every transaction that ``engine.begin()``
opens is ``BEGIN IMMEDIATE``: it takes the write lock up front, so two processes never deadlock
upgrading a read lock; ``read_only(engine)`` opens plain ``BEGIN``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CursorResult,
    DateTime,
    Table,
    TextClause,
    TypeDecorator,
    bindparam,
    event,
    exc,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

import inline_sqlite
from gamestore.platform.config import Settings, scheme, sqlite_path

READ_ONLY = "gamestore_read_only"


def sqlalchemy_url(url: str) -> str:
    kind = scheme(url)
    rest = url.split("://", 1)[1]
    if kind == "sqlite":
        return "sqlite+aiosqlite://" + rest
    if kind in ("postgresql", "postgres"):
        return "postgresql+asyncpg://" + rest
    raise ValueError(f"no database adapter for {url!r} (use sqlite:/// or postgresql://)")


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine for ``sqlite:///path`` or ``postgresql://...``; nothing connects yet."""
    if scheme(url) != "sqlite":
        if "pool_size" not in options:  # GAMESTORE_DB_POOL_SIZE, _MAX_OVERFLOW
            limits = Settings()
            options.update(pool_size=limits.db_pool_size, max_overflow=limits.db_max_overflow)
        engine = create_async_engine(sqlalchemy_url(url), **options)
        event.listen(engine.sync_engine, "checkout", _discard_if_closed)
        return engine
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    options.setdefault("pool_size", 1)
    options.setdefault("max_overflow", 0)
    engine = create_async_engine(
        sqlalchemy_url(url), async_creator=lambda: inline_sqlite.connect(path), **options
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _pragmas(dbapi_conn: DBAPIConnection, _: ConnectionPoolEntry) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _discard_if_closed(dbapi_conn: Any, _: ConnectionPoolEntry, __: Any) -> None:
    """A pooled PostgreSQL connection that the server closed (a restart, a terminated backend)
    is replaced at checkout, before anyone uses it: asyncpg marks it closed as soon as the
    server's goodbye arrives. This costs no round trip, where ``pool_pre_ping`` costs three per
    transaction (begin, ping, rollback). A connection that died silently (no goodbye: a network
    partition) fails on first use instead; the pool is then invalidated and callers retry it
    as the outage it is."""
    if dbapi_conn.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this pooled connection")


@asynccontextmanager
async def read_only(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads only. On SQLite, a transaction that does not take the write lock
    (one snapshot for all its statements). On PostgreSQL, autocommit: at READ COMMITTED, the
    default, every statement sees its own snapshot inside a transaction too, so BEGIN and
    COMMIT would only add two round trips."""
    async with engine.connect() as conn:
        if is_sqlite(engine):
            conn = await conn.execution_options(**{READ_ONLY: True})
            async with conn.begin():
                yield conn
        else:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database (a readiness probe); raises if it cannot be made."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Build = Callable[[postgresql.Insert | sqlite.Insert], postgresql.Insert | sqlite.Insert]


class Upsert:
    """An ``INSERT … ON CONFLICT`` on ``table``, in the dialect of the connection it runs on.

    ``build`` receives the dialect's insert construct (PostgreSQL or SQLite) and adds its
    ``on_conflict_do_nothing`` / ``on_conflict_do_update``. SQLAlchemy 2.0 gives those constructs
    no cache key, so it would compile them again at every execution (measured: 11-22 % of a busy
    service's CPU); here each is compiled once per dialect and set of columns into a text
    statement with the columns' types, which SQLAlchemy caches like any other.

        CLAIM = Upsert(inbox, lambda insert: insert.on_conflict_do_nothing(
            index_elements=["consumer", "event_id"]))
        result = await CLAIM.execute(conn, {"consumer": ..., "event_id": ..., ...})
    """

    def __init__(self, table: Table, build: Build) -> None:
        self._table = table
        self._build = build
        self._compiled: dict[tuple[str, tuple[str, ...]], TextClause] = {}

    async def execute(
        self, conn: AsyncConnection, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> CursorResult[Any]:
        """Insert one row (a mapping) or several (a sequence of mappings with the same keys)."""
        first = rows if isinstance(rows, Mapping) else rows[0]
        key = (conn.dialect.name, tuple(first))
        statement = self._compiled.get(key)
        if statement is None:
            statement = self._compile(*key)
        parameters = dict(rows) if isinstance(rows, Mapping) else [dict(row) for row in rows]
        return await conn.execute(statement, parameters)

    def _compile(self, dialect_name: str, columns: tuple[str, ...]) -> TextClause:
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        statement = self._build(dialect.insert(self._table))
        compiled = statement.compile(
            dialect=dialect.dialect(paramstyle="named"), column_keys=list(columns)
        )
        binds = [
            bindparam(name, value=None if name in columns else bind.value, type_=bind.type)
            for bind, name in compiled.bind_names.items()
        ]
        sql = compiled.string.replace("::", r"\:\:")  # PostgreSQL casts, not parameters
        text_statement = text(sql).bindparams(*binds)
        self._compiled[(dialect_name, columns)] = text_statement
        return text_statement
