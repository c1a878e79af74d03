"""The notifier's own database (SQLAlchemy Core): notifications, its inbox, its outbox."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, Text

from gamestore.platform.db import UtcDateTime
from gamestore.platform.inbox import inbox_table
from gamestore.platform.outbox import Outbox, outbox_table

metadata = MetaData()

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("type", String(40), nullable=False),
    Column("message", Text, nullable=False),
    # one notification per event, even if the inbox were ever bypassed
    Column("cause_event_id", String(36), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)
# GET /notificacoes: one player's notifications, newest first
Index("ix_notifications_user_created", notifications.c.user_id, notifications.c.created_at)

inbox = inbox_table(metadata)
outbox = Outbox(outbox_table(metadata))
