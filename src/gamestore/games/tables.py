"""The games database (SQLAlchemy Core, its own MetaData): games, libraries, orders, outbox,
the saga's inbox and the idempotency keys of ``POST /jogos/compra``."""

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
from gamestore.platform.idempotency import idempotency_table
from gamestore.platform.inbox import inbox_table
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
    Column(
        "cover", JSON(none_as_null=True)
    ),  # the uploaded cover's digest and sizes; NULL: generated artwork
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

orders = Table(
    "orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("game_id", String(36), nullable=False),
    Column("game_title", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("payment_id", String(36), nullable=False),  # the order's current payment
    Column("payment_method", String(100), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("failure_reason", String(100)),
    Column("version", Integer, nullable=False),  # the version of the order-{id} stream
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
Index("ix_orders_user_created", orders.c.user_id, orders.c.created_at)
# One order per (player, game), whatever its status: concurrent purchases of one game by one
# player give one order, the others lose on this index. A completed order keeps its row here, so
# a purchase racing the completion (it saw no library row, then no open order) still loses: only
# the index is checked at the moment of the insert. A failed order is paid again through
# POST /pagamento, never replaced.
Index("uq_orders_per_user_game", orders.c.user_id, orders.c.game_id, unique=True)

# Payments reported failed, kept so a PaymentRequested delivered after its own PaymentFailed
# (RabbitMQ may reorder redeliveries) still ends with the order failed.
failed_payments = Table(
    "failed_payments",
    metadata,
    Column("payment_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("reason", String(100), nullable=False),
)

outbox = Outbox(outbox_table(metadata))
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
