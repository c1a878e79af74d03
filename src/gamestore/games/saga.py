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

Each event is applied in a transaction of the games database with its inbox claim, the order
and library rows and the outgoing events (outbox); the bus hands over pages of events, and a page
is ONE transaction (events in order, each claimed then applied). A redelivery finds its claim and
changes nothing; a reordered delivery meets an order whose state already says what to do; a
poison event fails its page, which the bus then redelivers one event at a time. The decisions
are plain functions (``on_*``), the handler only loads, decides and writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.games import repository as repo
from gamestore.games.domain import COMPLETED, FAILED, PENDING, Order
from gamestore.games.tables import outbox
from gamestore.platform.eventstore import ANY, NewEvent, RecordedEvent
from gamestore.platform.inbox import idempotent_batch
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import no_wake

log = get_logger("games")
GROUP = "games"
EVENT_TYPES = ("PaymentRequested", "PaymentSucceeded", "PaymentFailed")
_IDS = uuid.UUID("5d0c7c61-6a53-4c8e-9a55-4f1f6d2f0b7e")  # namespace of derived event ids


class PoisonEvent(ValueError):
    """A payment event without usable ids (the bus retries, then dead-letters it)."""


@dataclass(frozen=True, slots=True)
class Step:
    """What one payment event does to an order."""

    order: Order
    note: str
    changed: bool = False
    order_event: NewEvent | None = None  # on order-{id}, expecting the previous version
    purchase: NewEvent | None = None  # on library-{user_id}, with the library grant


def _caused(cause: RecordedEvent, type_: str, data: dict[str, Any]) -> NewEvent:
    """An event caused by ``cause``, with an id derived from it (a replay derives the same)."""
    event_id = uuid.uuid5(_IDS, f"{cause.event_id}/{type_}")
    return NewEvent(type_, data, event_id, cause.correlation_id, str(cause.event_id))


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
    purchase = _caused(cause, "PurchaseCompleted", _purchase_data(done))
    completed = _caused(cause, "OrderCompleted", done.ids())
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
    event = _caused(cause, "OrderFailed", {**failed.ids(), "reason": reason})
    return Step(failed, "order failed", True, event)


def _purchase_data(order: Order) -> dict[str, Any]:
    return {
        **order.ids(),
        "game_title": order.game_title,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
    }


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise PoisonEvent(f"the event carries no {name}")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise PoisonEvent(f"{name} is not a UUID: {value[:64]!r}") from None


Apply = Callable[[AsyncConnection, Order, str, RecordedEvent], Awaitable[Step]]


class PurchaseSaga:
    """The bus handler of group ``games``."""

    def __init__(self, engine: AsyncEngine, *, on_commit: Callable[[], None] = no_wake) -> None:
        self._batch = idempotent_batch(engine, GROUP, self.apply, on_commit=on_commit)
        self._apply: dict[str, Apply] = {
            "PaymentRequested": self._requested,
            "PaymentSucceeded": self._succeeded,
            "PaymentFailed": self._failed,
        }

    async def handle(self, event: RecordedEvent) -> None:
        """Apply one payment event, exactly once (a page of one: see :meth:`handle_batch`)."""
        await self._batch([event])

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        """The bus handler: a page of payment events in ONE games transaction, in order, each
        claimed in the inbox then applied; the relay is woken once after the commit."""
        await self._batch(events)

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        """Apply one claimed payment event on ``conn`` (other types are ignored);
        :class:`PoisonEvent` when it carries no usable ids."""
        apply = self._apply.get(event.type)
        if apply is None:
            return
        order_id, payment_id = _text(event.data, "order_id"), _text(event.data, "payment_id")
        fields = {"event_type": event.type, "order_id": order_id, "payment_id": payment_id}
        order = await repo.order_by_id(conn, order_id, lock=True)
        if order is None:
            log.warning("payment event for an unknown order ignored", **fields)
            return
        step = await apply(conn, order, payment_id, event)
        await self._write(conn, order, step)
        log.info(step.note, **fields, status=step.order.status)

    async def _write(self, conn: AsyncConnection, before: Order, step: Step) -> None:
        if not step.changed:
            return
        await repo.save_order(conn, step.order)
        if step.order_event is not None:
            await outbox.add(conn, step.order.stream, [step.order_event], before.version)
        if step.purchase is not None:
            order = step.order
            added = await repo.add_to_library(
                conn, order.user_id, order.game_id, order.id, order.updated_at
            )
            if added:
                await outbox.add(conn, f"library-{order.user_id}", [step.purchase], ANY)
            else:
                log.warning("game already in the library", order_id=order.id)

    async def _requested(
        self, conn: AsyncConnection, order: Order, payment_id: str, event: RecordedEvent
    ) -> Step:
        reason = await repo.failed_payment_reason(conn, payment_id)
        return on_payment_requested(order, payment_id, reason, datetime.now(UTC), event)

    async def _succeeded(
        self, conn: AsyncConnection, order: Order, payment_id: str, event: RecordedEvent
    ) -> Step:
        return on_payment_succeeded(order, payment_id, datetime.now(UTC), event)

    async def _failed(
        self, conn: AsyncConnection, order: Order, payment_id: str, event: RecordedEvent
    ) -> Step:
        reason = str(event.data.get("reason") or "payment_failed")[:100]
        await repo.record_failed_payment(conn, payment_id, order.id, reason)
        return on_payment_failed(order, payment_id, reason, datetime.now(UTC), event)
