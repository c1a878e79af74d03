"""Cover images: ``games.cover`` keeps an uploaded cover's digest and rendition sizes
(docs/adr/016-covers.md). Nullable: a game without an upload shows generated artwork.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("games")}
    if "cover" not in columns:  # a store adopted from before migrations may have it
        op.add_column("games", sa.Column("cover", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("games") as batch:
        batch.drop_column("cover")
