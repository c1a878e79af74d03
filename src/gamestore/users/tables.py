"""The users database (SQLAlchemy Core, its own MetaData): users, refresh tokens, outbox."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table

from gamestore.platform.db import UtcDateTime
from gamestore.platform.outbox import Outbox, outbox_table

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
