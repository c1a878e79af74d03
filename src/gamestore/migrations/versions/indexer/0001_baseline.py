"""Baseline: the indexer: its inbox and the purchase tally.

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
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
        if_not_exists=True,
    )
    op.create_table(
        "purchases",
        sa.Column("game_id", sa.String(length=36), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("game_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("purchases")
    op.drop_table("inbox")
