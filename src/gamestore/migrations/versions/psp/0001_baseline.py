"""Baseline: the PSP simulator: charges, idempotency keys, webhook deliveries.

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
        "psp_charges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("payment_id", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_method", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failure_code", sa.String(length=40), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("traceparent", sa.String(length=128), nullable=True),
        sa.Column("complete_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_psp_charges_complete_at"),
        "psp_charges",
        ["complete_at"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_psp_charges_payment_id"),
        "psp_charges",
        ["payment_id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_table(
        "psp_idempotency_keys",
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.Float(), nullable=False),
        sa.Column("charge_id", sa.String(length=40), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("idempotency_key"),
        if_not_exists=True,
    )
    op.create_table(
        "psp_webhooks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("charge_id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("traceparent", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("charge_id"),
        if_not_exists=True,
    )
    op.create_index(
        op.f("ix_psp_webhooks_next_attempt_at"),
        "psp_webhooks",
        ["next_attempt_at"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("psp_webhooks")
    op.drop_table("psp_idempotency_keys")
    op.drop_table("psp_charges")
