"""What payments knows of each order, and the use cases that start its payments.

- :func:`order_created_consumer` applies pages of ``OrderCreated`` in one unit of work: for each
  event, the consumer's inbox claim, the order's row in ``payment_orders`` and its first
  ``PaymentRequested`` (outbox) commit together.
- :meth:`Orders.start_payment` is ``POST /pagamento``: a new payment for an unpaid order whose
  current payment is terminal. The swap of ``current_payment_id`` is a compare-and-set in the
  same transaction as the new ``PaymentRequested``, so of two concurrent retries one wins and the
  other finds the payment it started in flight (docs/adr/008).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from gamestore.games.events import OrderCreated
from gamestore.payments.aggregate import Payments
from gamestore.payments.domain import (
    Payment,
    PaymentError,
    PaymentNotFound,
    requested,
    stream_of,
)
from gamestore.payments.repository import PaymentOrder, PaymentsRepo
from gamestore.platform.auth import Principal
from gamestore.platform.bus.model import BatchHandler
from gamestore.platform.clock import utcnow
from gamestore.platform.eventstore import NO_STREAM, RecordedEvent
from gamestore.platform.ids import canonical_uuid
from gamestore.platform.inbox import apply_page
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import Transaction, UnitOfWork

log = get_logger("payments")
ORDER_CREATED = OrderCreated.TYPE
CONSUMER = "payments"  # the inbox's name for the OrderCreated consumer
BeforeCommit = Callable[[PaymentsRepo, dict[str, Any]], Awaitable[None]]


class OrderNotFound(PaymentError):
    """No such order, or not the caller's."""


class OrderPaid(PaymentError):
    """The order is paid already."""


class PaymentInFlight(PaymentError):
    """The order's current payment has no outcome yet (or another retry just started one)."""


def ordered(created: OrderCreated) -> PaymentOrder:
    """The order an ``OrderCreated`` describes, its first payment not yet paid."""
    return PaymentOrder(
        order_id=created.order_id,
        user_id=created.user_id,
        game_id=created.game_id,
        game_title=created.game_title,
        amount_cents=created.amount_cents,
        currency=created.currency,
        current_payment_id=created.payment_id,
        paid=False,
    )


async def record_order(tx: Transaction[PaymentsRepo], event: RecordedEvent) -> bool:
    """Apply ``OrderCreated`` in ``tx``: the order row and its first ``PaymentRequested``.
    False (and nothing written) when the order is known already; :class:`PoisonEvent` when the
    event does not fit the games service's contract."""
    created = OrderCreated.parse(event)
    order = ordered(created)
    if not await tx.repo.remember_order(order, utcnow()):
        log.warning("order already known; nothing requested", order_id=order.order_id)
        return False
    first = requested(_payment_data(order, order.current_payment_id, created.payment_method))
    first = replace(first, causation_id=str(event.event_id), correlation_id=event.correlation_id)
    tx.emit(stream_of(order.current_payment_id), first, NO_STREAM)
    log.info("payment requested", order_id=order.order_id, payment_id=order.current_payment_id)
    return True


def order_created_consumer(uow: UnitOfWork[PaymentsRepo]) -> BatchHandler:
    """The bus handler of ``OrderCreated`` pages: one unit of work per page, each event claimed
    in the inbox then applied; a redelivered event finds its claim and is skipped, and any
    event failing rolls the page back (the bus then retries it event by event)."""

    async def handle(events: list[RecordedEvent]) -> None:
        await apply_page(uow, CONSUMER, events, record_order)

    return handle


async def visible_payment(payments: Payments, caller: Principal, payment_id: str) -> Payment:
    """The payment folded from its stream, if the caller owns it or is an admin;
    :class:`PaymentNotFound` otherwise (another user's payment does not exist for them)."""
    key = canonical_uuid(payment_id)
    payment = await payments.load(key) if key is not None else None
    if payment is None or not (caller.is_admin or payment.user_id == caller.user_id):
        raise PaymentNotFound(payment_id)
    return payment


class Orders:
    """The order view and ``POST /pagamento``."""

    def __init__(self, uow: UnitOfWork[PaymentsRepo], payments: Payments) -> None:
        self._uow = uow
        self._payments = payments

    async def owned(self, user: Principal, order_id: str) -> PaymentOrder:
        """The caller's order; :class:`OrderNotFound` for unknown ids and others' orders."""
        key = canonical_uuid(order_id)
        order = None
        if key is not None:
            async with self._uow.read() as repo:
                order = await repo.order(key)
        if order is None or order.user_id != user.user_id:
            raise OrderNotFound(order_id)
        return order

    async def start_payment(
        self,
        user: Principal,
        order_id: str,
        payment_method: str,
        before_commit: BeforeCommit | None = None,
    ) -> dict[str, Any]:
        """A new payment of the caller's unpaid order: ``{payment_id, order_id, status}``.

        :class:`OrderNotFound`, :class:`OrderPaid`, :class:`PaymentInFlight` as the contract
        says. ``before_commit(repo, answer)`` runs inside the unit of work (Idempotency-Key)."""
        order = await self.owned(user, order_id)
        await self._check_retryable(order)
        payment_id = str(uuid.uuid4())
        answer = {"payment_id": payment_id, "order_id": order.order_id, "status": "pending"}
        data = _payment_data(order, payment_id, payment_method)
        async with self._uow() as tx:
            if not await tx.repo.swap_current(order, payment_id, utcnow()):
                raise PaymentInFlight(order.order_id)
            tx.emit(stream_of(payment_id), requested(data), NO_STREAM)
            if before_commit is not None:
                await before_commit(tx.repo, answer)
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
