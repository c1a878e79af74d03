"""Baseline: the event store's log (``0001_<dialect>.sql``: the append-only table and its
triggers, the head, checkpoints, the group-append function), the bus's bookkeeping beside it
(dead letters, replays, consumer groups) and the SQLite bus's leases.

Everything is created only if missing: a store made before migrations is adopted as it is
(an SQLite log older than ``traceparent`` gets the column).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.util import await_only

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    script = (Path(__file__).parent / f"0001_{bind.dialect.name}.sql").read_text()
    if bind.dialect.name == "postgresql":
        # functions and triggers: the script as one simple-protocol call, in this transaction
        driver: Any = bind.connection.driver_connection
        await_only(driver.execute(script))
    else:
        for statement in _statements(script):
            bind.exec_driver_sql(statement)
        columns = {row[1] for row in bind.exec_driver_sql("PRAGMA table_info(es_events)")}
        if "traceparent" not in columns:
            bind.exec_driver_sql("ALTER TABLE es_events ADD COLUMN traceparent TEXT")
        bind.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS bus_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
            " expires_at REAL NOT NULL)"
        )
    _bus_bookkeeping()


def _statements(script: str) -> list[str]:
    """An SQLite script's statements, whole (a trigger's body has semicolons of its own)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return statements


def _bus_bookkeeping() -> None:
    op.create_table(
        "bus_dead_letters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("consumer_group", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_bus_dead_letters_consumer_group",
        "bus_dead_letters",
        ["consumer_group"],
        unique=False,
        if_not_exists=True,
    )
    op.create_table(
        "bus_first_attempts",
        sa.Column("consumer_group", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group"),
        if_not_exists=True,
    )
    op.create_table(
        "bus_groups",
        sa.Column("consumer_group", sa.String(length=200), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer_group"),
        if_not_exists=True,
    )
    op.create_table(
        "bus_replays",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("consumer_group", sa.String(length=200), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_bus_replays_consumer_group",
        "bus_replays",
        ["consumer_group"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    raise NotImplementedError("the event store is append-only: it is never dropped")
