"""The payments database as the use cases see it: orders, received webhooks, inbox claims.

:class:`PaymentsRepo` is the port a unit of work hands out (``tx.repo``); :class:`SqlPaymentsRepo`
works on the transaction's connection, :class:`InMemoryPaymentsRepo` backs the use cases' unit
tests. The Payment aggregate itself is not here: its state is its event stream
(``payments.aggregate``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.payments.tables import payment_orders, webhooks
from gamestore.platform.db import Upsert
from gamestore.platform.idempotency import Finish
from gamestore.platform.inbox import claim

_REMEMBER = Upsert(
    payment_orders, lambda insert: insert.on_conflict_do_nothing(index_elements=["order_id"])
)
_STORE = Upsert(
    webhooks, lambda insert: insert.on_conflict_do_nothing(index_elements=["webhook_id"])
)


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """What payments knows of an order (a row of ``payment_orders``)."""

    order_id: str
    user_id: str
    game_id: str
    game_title: str
    amount_cents: int
    currency: str
    current_payment_id: str
    paid: bool


@dataclass(frozen=True, slots=True)
class ReceivedWebhook:
    """A verified webhook as it is kept (a row of ``webhooks``)."""

    webhook_id: str
    type: str
    payment_id: str
    body: dict[str, Any]
    received_at: datetime


class PaymentsRepo(Protocol):
    """The payments database inside one unit of work."""

    async def remember_order(self, order: PaymentOrder, at: datetime) -> bool:
        """Keep a new order; False (nothing written) when it is known already."""
        ...

    async def order(self, order_id: str, *, lock: bool = False) -> PaymentOrder | None:
        """The order (``lock``: held until the unit of work ends), or None."""
        ...

    async def swap_current(self, order: PaymentOrder, payment_id: str, at: datetime) -> bool:
        """Compare-and-set of an unpaid order's current payment; False when another writer
        changed it since ``order`` was read."""
        ...

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        """True the first time ``consumer`` claims ``event_id`` (its inbox), False after."""
        ...

    async def store_webhook(self, webhook: ReceivedWebhook) -> bool:
        """Keep a webhook by its id; False (nothing written) for an id kept already."""
        ...

    async def keep_answer(self, finish: Finish, status: int, answer: Any) -> None:
        """Store an ``Idempotency-Key``'s answer in this unit of work, with what it did."""
        ...


class SqlPaymentsRepo:
    """:class:`PaymentsRepo` on a connection of the payments database."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def remember_order(self, order: PaymentOrder, at: datetime) -> bool:
        row = {"order_id": order.order_id, "user_id": order.user_id, "game_id": order.game_id,
               "game_title": order.game_title, "amount_cents": order.amount_cents,
               "currency": order.currency, "current_payment_id": order.current_payment_id,
               "paid": order.paid, "created_at": at, "updated_at": at}  # fmt: skip
        return (await _REMEMBER.execute(self._conn, row)).rowcount == 1

    async def order(self, order_id: str, *, lock: bool = False) -> PaymentOrder | None:
        query = select(payment_orders).where(payment_orders.c.order_id == order_id)
        row = (await self._conn.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            return None
        return PaymentOrder(
            row.order_id, row.user_id, row.game_id, row.game_title, row.amount_cents,
            row.currency, row.current_payment_id, bool(row.paid),
        )  # fmt: skip

    async def swap_current(self, order: PaymentOrder, payment_id: str, at: datetime) -> bool:
        c = payment_orders.c
        statement = (
            update(payment_orders)
            .where(c.order_id == order.order_id)
            .where(c.current_payment_id == order.current_payment_id)
            .where(c.paid.is_(False))
            .values(current_payment_id=payment_id, updated_at=at)
        )
        return (await self._conn.execute(statement)).rowcount == 1

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        return await claim(self._conn, consumer, event_id)

    async def store_webhook(self, webhook: ReceivedWebhook) -> bool:
        row = {"webhook_id": webhook.webhook_id, "type": webhook.type,
               "payment_id": webhook.payment_id, "body": webhook.body,
               "received_at": webhook.received_at}  # fmt: skip
        return (await _STORE.execute(self._conn, row)).rowcount == 1

    async def keep_answer(self, finish: Finish, status: int, answer: Any) -> None:
        await finish(self._conn, status, answer)


@dataclass
class InMemoryPaymentsRepo:
    """:class:`PaymentsRepo` in dictionaries, for unit tests of the use cases."""

    orders: dict[str, PaymentOrder] = field(default_factory=dict)
    claims: set[tuple[str, uuid.UUID]] = field(default_factory=set)
    webhooks: dict[str, ReceivedWebhook] = field(default_factory=dict)
    answers: list[tuple[int, Any]] = field(default_factory=list)

    async def remember_order(self, order: PaymentOrder, at: datetime) -> bool:
        return self.orders.setdefault(order.order_id, order) is order

    async def order(self, order_id: str, *, lock: bool = False) -> PaymentOrder | None:
        return self.orders.get(order_id)

    async def swap_current(self, order: PaymentOrder, payment_id: str, at: datetime) -> bool:
        kept = self.orders.get(order.order_id)
        if kept is None or kept.paid or kept.current_payment_id != order.current_payment_id:
            return False
        self.orders[order.order_id] = replace(kept, current_payment_id=payment_id)
        return True

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        fresh = (consumer, event_id) not in self.claims
        self.claims.add((consumer, event_id))
        return fresh

    async def store_webhook(self, webhook: ReceivedWebhook) -> bool:
        return self.webhooks.setdefault(webhook.webhook_id, webhook) is webhook

    async def keep_answer(self, finish: Finish, status: int, answer: Any) -> None:
        self.answers.append((status, answer))
