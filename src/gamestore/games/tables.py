"""The games database (SQLAlchemy Core, its own MetaData): games, libraries, outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

from gamestore.platform.outbox import Outbox, outbox_table


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


metadata = MetaData()

games = Table(
    "games",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("title_normalized", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("genres", JSON, nullable=False),
    Column("platforms", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("release_date", Date, nullable=False),
    Column("developer", String(200), nullable=False),
    Column("publisher", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime),  # delisted: off the catalog, kept for libraries
)
# One listed game per title (ignoring case); a delisted game frees its title. The index also
# serves the catalog's title order.
Index(
    "uq_games_listed_title",
    games.c.title_normalized,
    unique=True,
    sqlite_where=games.c.deleted_at.is_(None),
    postgresql_where=games.c.deleted_at.is_(None),
)

library = Table(
    "library",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("game_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
)

outbox = Outbox(outbox_table(metadata))
