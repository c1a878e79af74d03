"""What payments knows of each order, and the use cases that start its payments.

- :func:`record_order` applies ``OrderCreated`` (under the consumer's inbox claim): the order's
  row in ``payment_orders`` and its first payment's ``PaymentRequested`` (outbox) commit together.
- :meth:`Orders.start_payment` is ``POST /pagamento``: a new payment for an unpaid order whose
  current payment is terminal. The swap of ``current_payment_id`` is a compare-and-set in the
  same transaction as the new ``PaymentRequested``, so of two concurrent retries one wins and the
  other finds the payment it started in flight (docs/adr/008).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.payments.aggregate import Payments
from gamestore.payments.domain import (
    Payment,
    PaymentError,
    PaymentNotFound,
    requested,
    stream_of,
)
from gamestore.payments.tables import outbox, payment_orders
from gamestore.platform.auth import Principal
from gamestore.platform.db import Upsert, read_only
from gamestore.platform.eventstore import NO_STREAM, RecordedEvent
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import no_wake

_REMEMBER = Upsert(
    payment_orders, lambda insert: insert.on_conflict_do_nothing(index_elements=["order_id"])
)
log = get_logger("payments")
ORDER_CREATED = "OrderCreated"
BeforeCommit = Callable[[AsyncConnection, dict[str, Any]], Awaitable[None]]


class OrderNotFound(PaymentError):
    """No such order, or not the caller's."""


class OrderPaid(PaymentError):
    """The order is paid already."""


class PaymentInFlight(PaymentError):
    """The order's current payment has no outcome yet (or another retry just started one)."""


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """A row of ``payment_orders``."""

    order_id: str
    user_id: str
    game_id: str
    game_title: str
    amount_cents: int
    currency: str
    current_payment_id: str
    paid: bool


def _now() -> datetime:
    return datetime.now(UTC)


async def record_order(conn: AsyncConnection, event: RecordedEvent) -> bool:
    """Apply ``OrderCreated`` on ``conn``: the order row and its first ``PaymentRequested``.
    False (and nothing written) when the order is known already."""
    data = event.data
    now = _now()
    payment_id = str(data["payment_id"])
    row: dict[str, Any] = {
        "order_id": str(data["order_id"]),
        "user_id": str(data["user_id"]),
        "game_id": str(data["game_id"]),
        "game_title": str(data.get("game_title", "")),
        "amount_cents": int(data["amount_cents"]),
        "currency": str(data["currency"]),
        "current_payment_id": payment_id,
        "paid": False,
        "created_at": now,
        "updated_at": now,
    }
    if (await _REMEMBER.execute(conn, row)).rowcount != 1:
        log.warning("order already known; nothing requested", order_id=row["order_id"])
        return False
    first = requested(data, causation_id=str(event.event_id))
    await outbox.add(conn, stream_of(payment_id), [first], NO_STREAM)
    log.info("payment requested", order_id=row["order_id"], payment_id=payment_id)
    return True


def canonical(identifier: str) -> str | None:
    """The canonical form of a UUID string, or None when it is not one."""
    try:
        return str(uuid.UUID(identifier))
    except ValueError:
        return None


async def visible_payment(payments: Payments, caller: Principal, payment_id: str) -> Payment:
    """The payment folded from its stream, if the caller owns it or is an admin;
    :class:`PaymentNotFound` otherwise (another user's payment does not exist for them)."""
    key = canonical(payment_id)
    payment = await payments.load(key) if key is not None else None
    if payment is None or not (caller.is_admin or payment.user_id == caller.user_id):
        raise PaymentNotFound(payment_id)
    return payment


class Orders:
    """The order view and ``POST /pagamento``."""

    def __init__(
        self, engine: AsyncEngine, payments: Payments, *, on_commit: Callable[[], None] = no_wake
    ) -> None:
        self._engine = engine
        self._payments = payments
        self._on_commit = on_commit  # wakes the outbox relay

    async def owned(self, user: Principal, order_id: str) -> PaymentOrder:
        """The caller's order; :class:`OrderNotFound` for unknown ids and others' orders."""
        key = canonical(order_id)
        row = None
        if key is not None:
            async with read_only(self._engine) as conn:
                query = select(payment_orders).where(payment_orders.c.order_id == key)
                row = (await conn.execute(query)).first()
        if row is None or row.user_id != user.user_id:
            raise OrderNotFound(order_id)
        return PaymentOrder(
            row.order_id,
            row.user_id,
            row.game_id,
            row.game_title,
            row.amount_cents,
            row.currency,
            row.current_payment_id,
            bool(row.paid),
        )

    async def start_payment(
        self,
        user: Principal,
        order_id: str,
        payment_method: str,
        before_commit: BeforeCommit | None = None,
    ) -> dict[str, Any]:
        """A new payment of the caller's unpaid order: ``{payment_id, order_id, status}``.

        :class:`OrderNotFound`, :class:`OrderPaid`, :class:`PaymentInFlight` as the contract
        says. ``before_commit(conn, answer)`` runs inside the transaction (Idempotency-Key)."""
        order = await self.owned(user, order_id)
        await self._check_retryable(order)
        payment_id = str(uuid.uuid4())
        answer = {"payment_id": payment_id, "order_id": order.order_id, "status": "pending"}
        data = _payment_data(order, payment_id, payment_method)
        async with self._engine.begin() as conn:
            if not await _swap_current(conn, order, payment_id):
                raise PaymentInFlight(order.order_id)
            await outbox.add(conn, stream_of(payment_id), [requested(data)], NO_STREAM)
            if before_commit is not None:
                await before_commit(conn, answer)
        self._on_commit()
        log.info(
            "payment restarted",
            order_id=order.order_id,
            payment_id=payment_id,
            previous=order.current_payment_id,
        )
        return answer

    async def _check_retryable(self, order: PaymentOrder) -> None:
        if order.paid:
            raise OrderPaid(order.order_id)
        current = await self._payments.load(order.current_payment_id)
        if current is None or not current.terminal:  # None: still on its way to the store
            raise PaymentInFlight(order.order_id)
        if current.status == "succeeded":
            raise OrderPaid(order.order_id)


def _payment_data(order: PaymentOrder, payment_id: str, payment_method: str) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "order_id": order.order_id,
        "user_id": order.user_id,
        "game_id": order.game_id,
        "game_title": order.game_title,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
        "payment_method": payment_method,
    }


async def _swap_current(conn: AsyncConnection, order: PaymentOrder, payment_id: str) -> bool:
    """Compare-and-set of the order's current payment; False when another writer won."""
    c = payment_orders.c
    statement = (
        update(payment_orders)
        .where(c.order_id == order.order_id)
        .where(c.current_payment_id == order.current_payment_id)
        .where(c.paid.is_(False))
        .values(current_payment_id=payment_id, updated_at=_now())
    )
    return (await conn.execute(statement)).rowcount == 1
