"""Loading and changing a Payment: fold its stream, decide, append at the folded version.

A writer that loses a race (another process appended in between) gets
:class:`WrongExpectedVersion`, reloads and decides again, so two writers of one payment (the
worker and the webhook function) serialise on the stream itself::

    payments = Payments(store)
    payment = await payments.change(payment_id, lambda p: decide_outcome(p, outcome))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from gamestore.payments.domain import Payment, PaymentNotFound, fold, stream_of
from gamestore.payments.events import (
    PaymentAnomalyRecorded,
    PaymentDeadLettered,
    PaymentFailed,
    PaymentSucceeded,
)
from gamestore.platform.eventstore import EventStore, NewEvent, RecordedEvent, WrongExpectedVersion
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import PAYMENT_ANOMALIES, PAYMENTS

log = get_logger("payments")
Decision = Callable[[Payment], Sequence[NewEvent]]
T = TypeVar("T")
ATTEMPTS = 10  # races lost in a row before giving up (each one means someone else progressed)


OUTCOMES = {
    PaymentSucceeded.TYPE: "succeeded",
    PaymentFailed.TYPE: "failed",
    PaymentDeadLettered.TYPE: "dead_lettered",
}


def count_outcomes(recorded: list[RecordedEvent]) -> None:
    """Payments that reached an outcome, and anomalies, in the metrics (counted once: where
    the event is appended for the first time)."""
    for event in recorded:
        if event.type in OUTCOMES:
            PAYMENTS.labels(OUTCOMES[event.type]).inc()
        elif event.type == PaymentAnomalyRecorded.TYPE:
            PAYMENT_ANOMALIES.labels(str(event.data.get("reason", "unknown"))[:40]).inc()


async def retrying_lost_races(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (which reads a stream and appends at the version it read) again each
    time another writer appended first, up to :data:`ATTEMPTS` times in all: every payment
    write that decides on folded state goes through here."""
    for _ in range(ATTEMPTS - 1):
        try:
            return await attempt()
        except WrongExpectedVersion:
            continue
    return await attempt()


class Payments:
    """The Payment aggregate's repository over the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def load(self, payment_id: str) -> Payment | None:
        """The payment folded from its stream; None when there is no such stream."""
        return fold(await self._store.read_stream(stream_of(payment_id)))

    async def get(self, payment_id: str) -> Payment:
        """Like :meth:`load`, raising :class:`PaymentNotFound`."""
        payment = await self.load(payment_id)
        if payment is None:
            raise PaymentNotFound(payment_id)
        return payment

    async def change(self, payment_id: str, decide: Decision) -> Payment:
        """Fold, ``decide``, append what it returned at the folded version; retried when another
        writer appended in between. Returns the payment as it is after the change."""
        return await retrying_lost_races(lambda: self._change_once(payment_id, decide))

    async def _change_once(self, payment_id: str, decide: Decision) -> Payment:
        events = await self._store.read_stream(stream_of(payment_id))
        payment = fold(events)
        if payment is None:
            raise PaymentNotFound(payment_id)
        new = list(decide(payment))
        if not new:
            return payment
        recorded = await self._store.append(stream_of(payment_id), new, payment.version)
        if recorded[0].version <= payment.version:
            return payment  # these ids were stored already: an earlier run of the same cause
        count_outcomes(recorded)
        log.info(
            "payment events appended",
            payment_id=payment_id,
            types=",".join(event.type for event in recorded),
            version=recorded[-1].version,
        )
        return fold([*events, *recorded]) or payment
