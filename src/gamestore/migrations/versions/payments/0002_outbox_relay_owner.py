"""The outbox's ``relay_owner``: which process's relay moves a row, so that the relays of
several replicas never move the same rows (platform/outbox.py, ADR 015). Nullable: a row
without one (staged by an older version) is anyone's to move.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("outbox")}
    if "relay_owner" not in columns:  # a store adopted from before migrations may have it
        op.add_column("outbox", sa.Column("relay_owner", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("relay_owner")
