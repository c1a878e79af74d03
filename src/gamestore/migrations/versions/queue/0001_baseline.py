"""Baseline: the table-backed work queue: messages and dead letters.

Tables are created only if missing: a database made before migrations existed is adopted as
it is (the runner first adds the nullable columns later versions added; see __init__.py).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_dead_letters",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("enqueued_at", sa.Float(), nullable=False),
        sa.Column("dead_lettered_at", sa.Float(), nullable=False),
        sa.Column("traceparent", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_queue_dead_letters_queue",
        "queue_dead_letters",
        ["queue", "dead_lettered_at"],
        unique=False,
        if_not_exists=True,
    )
    op.create_table(
        "queue_messages",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("available_at", sa.Float(), nullable=False),
        sa.Column("lease_token", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("enqueued_at", sa.Float(), nullable=False),
        sa.Column("traceparent", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_queue_messages_ready",
        "queue_messages",
        ["queue", "available_at"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("queue_messages")
    op.drop_table("queue_dead_letters")
