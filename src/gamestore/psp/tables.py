"""The PSP's own database: its ledger, idempotency keys and webhook outbox (SQLite or PostgreSQL).

Times are Unix seconds (floats): the same on both engines, compared as numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import inline_sqlite

metadata = MetaData()

charges = Table(
    "psp_charges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("payment_id", String(255), nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method", String(100), nullable=False),
    Column("description", String(1000)),
    Column("status", String(20), nullable=False),
    Column("failure_code", String(40)),
    Column("request_id", String(128)),
    Column("traceparent", String(128)),  # W3C: the charge request's span, for its webhook
    Column("complete_at", Float, index=True),  # an async charge's outcome is due then
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# A key is claimed (charge_id NULL, locked_at set) while its charge is decided, then bound to the
# charge and its first response; a claim that dies with its process expires after a while.
idempotency_keys = Table(
    "psp_idempotency_keys",
    metadata,
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("locked_at", Float, nullable=False),
    Column("charge_id", String(40)),
    Column("response_status", Integer),
    Column("response_body", Text),
)

webhooks = Table(
    "psp_webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("type", String(40), nullable=False),
    Column("charge_id", String(40), nullable=False, unique=True),
    Column("payment_id", String(255), nullable=False),
    Column("body", Text, nullable=False),  # exactly the bytes signed and sent
    Column("request_id", String(128)),
    Column("traceparent", String(128)),
    Column("status", String(20), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False, index=True),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
)


def rfc3339(when: float | None) -> str | None:
    """A stored time as RFC 3339 UTC (None stays None)."""
    if when is None:
        return None
    text = datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``sqlite:///path`` or ``postgresql://…``; nothing connects yet."""
    kind, _, rest = url.partition("://")
    if kind in ("postgresql", "postgres"):
        return create_async_engine("postgresql+asyncpg://" + rest, pool_pre_ping=True)
    if kind != "sqlite":
        raise ValueError(f"GAMESTORE_PSP_DB_URL: sqlite:/// or postgresql:// expected, got {url!r}")
    path = rest.removeprefix("/")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(  # sqlite3 on the loop's thread, one connection (inline_sqlite)
        "sqlite+aiosqlite://" + rest,
        async_creator=lambda: inline_sqlite.connect(path),
        pool_size=1,
        max_overflow=0,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _: Any) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):  # lock waits: inline_sqlite
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlock

    return engine
