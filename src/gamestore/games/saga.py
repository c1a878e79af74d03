"""The games side of the purchase saga: payment events → orders and libraries (ADR 008).

Consumer group ``games`` on the bus:

- ``PaymentRequested`` → the order's current payment is that one; a failed order is pending
  again (nothing changes for a completed order, or for the payment already current).
- ``PaymentSucceeded`` → the game enters the player's library, ``PurchaseCompleted`` on
  ``library-{user_id}``, ``OrderCompleted`` on ``order-{id}``, the order ``completed``. Whatever
  payment succeeded, the money was taken, so it completes the order; a success for a completed
  order changes nothing (a second charge is logged as a warning).
- ``PaymentFailed`` → if the order is pending and this is its current payment: ``payment_failed``
  with the reason, and ``OrderFailed``. The failure is remembered either way, so a
  ``PaymentRequested`` delivered after its own failure still ends failed.

Each event is applied in a unit of work of the games database with its inbox claim, the order
and library rows and the outgoing events (outbox); the bus hands over pages of events, and a
page is ONE unit of work (events in order, each claimed then applied; the relay woken once).
A redelivery finds its claim and changes nothing; a reordered delivery meets an order whose
state already says what to do; a poison event fails its page, which the bus then redelivers
one event at a time. The decisions are plain functions (``on_*``), the handler only loads,
decides and writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from gamestore.games.domain import COMPLETED, FAILED, PENDING, Order
from gamestore.games.events import OrderCompleted, OrderFailed, PurchaseCompleted
from gamestore.games.repository import GamesRepository
from gamestore.payments.events import PaymentFailed, PaymentRequested, PaymentSucceeded
from gamestore.platform.clock import utcnow
from gamestore.platform.events import Event, PoisonEvent
from gamestore.platform.eventstore import ANY, NewEvent, RecordedEvent
from gamestore.platform.ids import canonical_uuid
from gamestore.platform.inbox import apply_page
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import Transaction, UnitOfWork

log = get_logger("games")
GROUP = "games"
PAYMENT_EVENTS: dict[str, type[PaymentRequested | PaymentSucceeded | PaymentFailed]] = {
    contract.TYPE: contract for contract in (PaymentRequested, PaymentSucceeded, PaymentFailed)
}
EVENT_TYPES = tuple(PAYMENT_EVENTS)
_IDS = uuid.UUID("5d0c7c61-6a53-4c8e-9a55-4f1f6d2f0b7e")  # namespace of derived event ids


@dataclass(frozen=True, slots=True)
class Step:
    """What one payment event does to an order."""

    order: Order
    note: str
    changed: bool = False
    order_event: NewEvent | None = None  # on order-{id}, expecting the previous version
    purchase: NewEvent | None = None  # on library-{user_id}, with the library grant


def _caused(cause: RecordedEvent, event: Event) -> NewEvent:
    """``event`` caused by ``cause``, with an id derived from it (a replay derives the same)."""
    event_id = uuid.uuid5(_IDS, f"{cause.event_id}/{event.TYPE}")
    return NewEvent(
        event.TYPE, event.payload(), event_id, cause.correlation_id, str(cause.event_id)
    )


def on_payment_requested(
    order: Order, payment_id: str, failed_reason: str | None, now: datetime, cause: RecordedEvent
) -> Step:
    """A new payment of the order becomes its current one (``failed_reason``: it already failed)."""
    if order.status == COMPLETED or order.payment_id == payment_id:
        return Step(order, "nothing to change (completed, or already the current payment)")
    if failed_reason is None:
        new = replace(order, status=PENDING, payment_id=payment_id, failure_reason=None)
        return Step(replace(new, updated_at=now), "new current payment", changed=True)
    return _failed(order, payment_id, failed_reason, now, cause)


def on_payment_succeeded(
    order: Order, payment_id: str, now: datetime, cause: RecordedEvent
) -> Step:
    """Complete the order once; a later success (or failure) never undoes it."""
    if order.status == COMPLETED:
        if order.payment_id != payment_id:
            return Step(order, "ANOTHER payment succeeded for a completed order")
        return Step(order, "order already completed")
    done = replace(
        order,
        status=COMPLETED,
        payment_id=payment_id,
        failure_reason=None,
        version=order.version + 1,
        updated_at=now,
    )
    purchase = _caused(cause, PurchaseCompleted.of(done))
    completed = _caused(cause, OrderCompleted.of(done))
    return Step(done, "order completed", True, completed, purchase)


def on_payment_failed(
    order: Order, payment_id: str, reason: str, now: datetime, cause: RecordedEvent
) -> Step:
    """Fail the order if it is pending on this very payment; otherwise nothing changes."""
    if order.status != PENDING or order.payment_id != payment_id:
        return Step(order, "nothing to change (not pending, or not the current payment)")
    return _failed(order, payment_id, reason, now, cause)


def _failed(
    order: Order, payment_id: str, reason: str, now: datetime, cause: RecordedEvent
) -> Step:
    failed = replace(
        order,
        status=FAILED,
        payment_id=payment_id,
        failure_reason=reason,
        version=order.version + 1,
        updated_at=now,
    )
    event = _caused(cause, OrderFailed.of(failed, reason))
    return Step(failed, "order failed", True, event)


def _uuid(value: str, name: str) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        raise PoisonEvent(f"{name} is not a UUID: {value[:64]!r}")
    return canonical


Apply = Callable[[GamesRepository, Order, str, RecordedEvent], Awaitable[Step]]


class PurchaseSaga:
    """The bus handler of group ``games``."""

    def __init__(self, uow: UnitOfWork[GamesRepository]) -> None:
        self._uow = uow
        self._apply: dict[str, Apply] = {
            PaymentRequested.TYPE: self._requested,
            PaymentSucceeded.TYPE: self._succeeded,
            PaymentFailed.TYPE: self._failed,
        }

    async def handle(self, event: RecordedEvent) -> None:
        """Apply one payment event, exactly once (a page of one: see :meth:`handle_batch`)."""
        await self.handle_batch([event])

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        """The bus handler: a page of payment events in ONE unit of work, in order, each
        claimed in the inbox then applied (a redelivered event finds its claim and is
        skipped); any event raising rolls the whole page back, and the bus then retries it
        event by event. The relay is woken once, after the commit."""
        await apply_page(self._uow, GROUP, events, self.apply)

    async def apply(self, tx: Transaction[GamesRepository], event: RecordedEvent) -> None:
        """Apply one claimed payment event in ``tx`` (other types are ignored);
        :class:`PoisonEvent` when it carries no usable ids."""
        apply, contract = self._apply.get(event.type), PAYMENT_EVENTS.get(event.type)
        if apply is None or contract is None:
            return
        payment = contract.parse(event)
        order_id = _uuid(payment.order_id, "order_id")
        payment_id = _uuid(payment.payment_id, "payment_id")
        fields = {"event_type": event.type, "order_id": order_id, "payment_id": payment_id}
        order = await tx.repo.order_by_id(order_id, lock=True)
        if order is None:
            log.warning("payment event for an unknown order ignored", **fields)
            return
        step = await apply(tx.repo, order, payment_id, event)
        await _write(tx, order, step)
        log.info(step.note, **fields, status=step.order.status)

    async def _requested(
        self, repo: GamesRepository, order: Order, payment_id: str, event: RecordedEvent
    ) -> Step:
        reason = await repo.failed_payment_reason(payment_id)
        return on_payment_requested(order, payment_id, reason, utcnow(), event)

    async def _succeeded(
        self, repo: GamesRepository, order: Order, payment_id: str, event: RecordedEvent
    ) -> Step:
        return on_payment_succeeded(order, payment_id, utcnow(), event)

    async def _failed(
        self, repo: GamesRepository, order: Order, payment_id: str, event: RecordedEvent
    ) -> Step:
        reason = (PaymentFailed.parse(event).reason or "payment_failed")[:100]
        await repo.record_failed_payment(payment_id, order.id, reason)
        return on_payment_failed(order, payment_id, reason, utcnow(), event)


async def _write(tx: Transaction[GamesRepository], before: Order, step: Step) -> None:
    """The step's order, its event (expecting the version read) and the library grant with
    its ``PurchaseCompleted`` (a library stream holds independent facts: ``ANY``)."""
    if not step.changed:
        return
    order = step.order
    await tx.repo.save_order(order)
    if step.order_event is not None:
        tx.emit(order.stream, step.order_event, before.version)
    if step.purchase is not None:
        if await tx.repo.add_to_library(order.user_id, order.game_id, order.id, order.updated_at):
            tx.emit(f"library-{order.user_id}", step.purchase, ANY)
        else:
            log.warning("game already in the library", order_id=order.id)
