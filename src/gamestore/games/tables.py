"""The games database (SQLAlchemy Core, its own MetaData): games, libraries, outbox."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from gamestore.platform.db import UtcDateTime
from gamestore.platform.outbox import Outbox, outbox_table

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
