"""The users database (SQLAlchemy Core, its own MetaData): users, refresh tokens, outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, TypeDecorator
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

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("email_normalized", String(320), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime),
)
# One live account per email; a deleted account frees its email.
Index(
    "uq_users_live_email",
    users.c.email_normalized,
    unique=True,
    sqlite_where=users.c.deleted_at.is_(None),
    postgresql_where=users.c.deleted_at.is_(None),
)
Index("ix_users_created", users.c.created_at, users.c.id)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex; never the token
    Column("user_id", String(36), nullable=False, index=True),
    Column("family_id", String(36), nullable=False, index=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

outbox = Outbox(outbox_table(metadata))
