"""The payments database (its own MetaData): the order view, the payment list view, received
webhooks, idempotency keys, inbox and outbox.

The Payment aggregate itself lives in the event store (``payments.domain``); these tables are
what payments needs beside it:

- ``payment_orders``: what payments knows of each order (from ``OrderCreated``) and which payment
  is the order's current one. ``POST /pagamento`` swaps ``current_payment_id`` with a
  compare-and-set in the same transaction as the new payment's ``PaymentRequested`` (outbox),
  so two concurrent retries cannot both start a payment.
- ``payments_view``: one row per payment for lists (``GET /pagamento?order_id``), kept by a
  projection of the Payment events; single payments are always read by folding their stream.
- ``webhooks``: every verified PSP webhook, by ``webhook-id`` (the dedupe key).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, MetaData, String, Table

from gamestore.platform.db import UtcDateTime
from gamestore.platform.idempotency import idempotency_table
from gamestore.platform.inbox import inbox_table
from gamestore.platform.outbox import Outbox, outbox_table

metadata = MetaData()

payment_orders = Table(
    "payment_orders",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("game_id", String(36), nullable=False),
    Column("game_title", String(200), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("current_payment_id", String(36), nullable=False),
    Column("paid", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

payments_view = Table(
    "payments_view",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("failure_reason", String(100)),
    Column("attempts", Integer, nullable=False),
    Column("version", Integer, nullable=False),  # the stream version this row reflects
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
Index("ix_payments_view_order", payments_view.c.order_id)
Index("ix_payments_view_user", payments_view.c.user_id, payments_view.c.created_at)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(255), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("payment_id", String(36)),
    Column("body", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

idempotency_keys = idempotency_table(metadata)  # Idempotency-Key of POST /pagamento
inbox = inbox_table(metadata)
outbox = Outbox(outbox_table(metadata))
__all__ = [
    "idempotency_keys",
    "inbox",
    "metadata",
    "outbox",
    "payment_orders",
    "payments_view",
    "webhooks",
]
