"""The table-backed queue's schema and clock, shared by SQLite and PostgreSQL.

Times are epoch seconds (double precision) read from the database's clock, so consumers on
several hosts agree on when a lease expires. A leased message keeps its row: ``available_at``
is pushed to the end of the lease and ``lease_token`` names the holder; if the holder dies, the
row simply becomes visible again when ``available_at`` passes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.db import is_sqlite

metadata = sa.MetaData()

messages = sa.Table(
    "queue_messages",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("queue", sa.String, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("correlation_id", sa.String, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("available_at", sa.Float, nullable=False),
    sa.Column("lease_token", sa.String, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("enqueued_at", sa.Float, nullable=False),
    sa.Column("traceparent", sa.String, nullable=True),
    sa.Index("ix_queue_messages_ready", "queue", "available_at"),
)

dead_letters = sa.Table(
    "queue_dead_letters",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("queue", sa.String, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("correlation_id", sa.String, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("enqueued_at", sa.Float, nullable=False),
    sa.Column("dead_lettered_at", sa.Float, nullable=False),
    sa.Column("traceparent", sa.String, nullable=True),
    sa.Index("ix_queue_dead_letters_queue", "queue", "dead_lettered_at"),
)

_SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
_POSTGRES_NOW = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS double precision)"


def db_now(engine: AsyncEngine) -> sa.ColumnElement[float]:
    """The database's current time in epoch seconds, as an SQL expression."""
    text = _SQLITE_NOW if is_sqlite(engine) else _POSTGRES_NOW
    return sa.literal_column(text, type_=sa.Float)


async def fetch_now(conn: AsyncConnection, engine: AsyncEngine) -> float:
    """The database clock, read once."""
    return float((await conn.execute(sa.select(db_now(engine)))).scalar_one())
