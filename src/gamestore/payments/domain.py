"""The Payment aggregate, event-sourced: its state is the fold of its stream ``payment-{id}``.

Pure code, no I/O. The decisions (``decide_*``) take the folded state and return the events to
append; the writer appends them at the version it folded (see ``payments.aggregate``). Outcome
events get ids derived from their cause, so the same cause delivered twice appends nothing new.
The rule that the worker and the webhook function share: the first terminal outcome wins; a later
contradiction is recorded as ``PaymentAnomalyRecorded``, never raised (docs/adr/008). An outcome
counts only for a charge this payment asked for — one the worker recorded, or one the PSP holds
under this payment's idempotency key — of the payment's amount and currency
(:meth:`Payment.reconcile`); any other is an anomaly too, and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from gamestore.payments.events import (
    PaymentAnomalyRecorded,
    PaymentAttempted,
    PaymentDeadLettered,
    PaymentFailed,
    PaymentProcessing,
    PaymentReopened,
    PaymentRequested,
    PaymentSucceeded,
)
from gamestore.platform.eventstore import NewEvent, RecordedEvent

Status = Literal["pending", "processing", "succeeded", "failed"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed"})
PROCESSING_ERROR = "processing_error"
_IDS = uuid.UUID("6f0b7c55-2a8e-4c59-9d36-2f1b8f0e5a11")  # namespace of derived event ids


class PaymentError(Exception):
    """Base of the payments domain errors."""


class PaymentNotFound(PaymentError):
    """No payment with that id (or not the caller's)."""


def stream_of(payment_id: str) -> str:
    return f"payment-{payment_id}"


def derived_id(payment_id: str, cause: str) -> uuid.UUID:
    """The event id of the event ``cause`` produces for ``payment_id`` (same cause, same id)."""
    return uuid.uuid5(_IDS, f"{payment_id}:{cause}")


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment as its stream tells it."""

    id: str
    order_id: str
    user_id: str
    game_id: str
    game_title: str
    amount_cents: int
    currency: str
    payment_method: str
    status: Status
    version: int
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None
    charge_id: str | None = None
    charges: frozenset[str] = frozenset()  # every charge id the PSP answered the worker with
    attempts: int = 0
    dead_lettered: bool = False
    epoch: int = 0  # how many times an operator re-opened it (a replayed dead letter)
    correlation_id: str | None = None
    history: tuple[tuple[str, datetime], ...] = ()

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def idempotency_key(self) -> str:
        """The PSP key of its charge: its id, plus the epoch once an operator re-opened it."""
        return self.id if self.epoch == 0 else f"{self.id}:{self.epoch}"

    def idempotency_keys(self) -> frozenset[str]:
        """The key of every epoch: a charge under any of them was asked for by this payment."""
        return frozenset({self.id} | {f"{self.id}:{epoch}" for epoch in range(1, self.epoch + 1)})

    def reconcile(self, charge: ChargeFacts) -> str | None:
        """Why ``charge`` is not this payment's (an anomaly code), or None when it is: same
        amount and currency, and either recorded by the worker or made under one of its keys."""
        if (charge.amount_cents, charge.currency) != (self.amount_cents, self.currency):
            return AMOUNT_MISMATCH
        if charge.charge_id in self.charges:
            return None
        if charge.idempotency_key is not None and charge.idempotency_key in self.idempotency_keys():
            return None
        return UNKNOWN_CHARGE

    def ids(self) -> dict[str, Any]:
        """The ids and amounts every outcome event carries (ADR 008)."""
        return {
            "payment_id": self.id,
            "order_id": self.order_id,
            "user_id": self.user_id,
            "game_id": self.game_id,
            "game_title": self.game_title,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
        }

    def public(self) -> dict[str, Any]:
        """The JSON shape of CONTRACT.md (``GET /pagamento/{id}``); no payment method."""
        return {
            "id": self.id,
            "order_id": self.order_id,
            "user_id": self.user_id,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "status": self.status,
            "failure_reason": self.failure_reason,
            "attempts": self.attempts,
            "created_at": _rfc3339(self.created_at),
            "updated_at": _rfc3339(self.updated_at),
            "history": [{"type": kind, "at": _rfc3339(at)} for kind, at in self.history],
        }


AMOUNT_MISMATCH = "amount_mismatch"
UNKNOWN_CHARGE = "unknown_charge"


@dataclass(frozen=True, slots=True)
class ChargeFacts:
    """What a report (a webhook, the PSP's ledger) says a charge is."""

    charge_id: str
    amount_cents: int | None
    currency: str | None
    idempotency_key: str | None = None  # known only from the PSP's ledger


def _rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def requested(data: Mapping[str, Any], causation_id: str | None = None) -> NewEvent:
    """``PaymentRequested`` for a new payment (``data`` per ADR 008, payment method included),
    with an id derived from the payment: staged twice, stored once."""
    keys = ("payment_id", "order_id", "user_id", "game_id", "game_title")
    event = PaymentRequested(
        **{key: str(data[key]) for key in keys},
        amount_cents=int(data["amount_cents"]),
        currency=str(data["currency"]),
        payment_method=str(data["payment_method"]),
    )
    return event.new_event(
        event_id=derived_id(event.payment_id, "requested"), causation_id=causation_id
    )


def fold(events: Iterable[RecordedEvent]) -> Payment | None:
    """The payment a stream describes; None for an empty stream."""
    payment: Payment | None = None
    for event in events:
        payment = evolve(payment, event)
    return payment


def evolve(payment: Payment | None, event: RecordedEvent) -> Payment:
    """The payment after one more event of its stream (read through its contract)."""
    at = event.occurred_at
    if payment is None:
        if event.type != PaymentRequested.TYPE:
            raise ValueError(f"a payment stream must start with {PaymentRequested.TYPE}")
        return _started(event, PaymentRequested.parse(event))
    step = replace(
        payment, version=event.version, updated_at=at, history=(*payment.history, (event.type, at))
    )
    contract = _CHANGING.get(event.type)
    if contract is None:
        return step  # PaymentAnomalyRecorded and unknown additions change no state
    return _applied(payment, step, contract.parse(event))


def _applied(payment: Payment, step: Payment, event: _Changing) -> Payment:
    """``step`` (the payment with its version and history moved on) changed by ``event``."""
    match event:
        case PaymentAttempted(charge_id=charge_id):
            status: Status = "processing" if not payment.terminal else payment.status
            step = replace(step, attempts=payment.attempts + 1, status=status)
            return _recording(step, charge_id)
        case PaymentProcessing(charge_id=charge_id):
            return _recording(replace(step, status="processing", charge_id=charge_id), charge_id)
        case PaymentSucceeded(charge_id=charge_id):
            return replace(step, status="succeeded", charge_id=charge_id, failure_reason=None)
        case PaymentFailed(reason=reason):
            return replace(step, status="failed", failure_reason=str(reason))
        case PaymentDeadLettered():
            return replace(step, dead_lettered=True)
        case PaymentReopened():
            epoch = payment.epoch + 1
            return replace(
                step, status="pending", failure_reason=None, dead_lettered=False, epoch=epoch
            )
    return step


_Changing = (
    PaymentAttempted
    | PaymentProcessing
    | PaymentSucceeded
    | PaymentFailed
    | PaymentDeadLettered
    | PaymentReopened
)
_CHANGING: dict[str, type[_Changing]] = {
    contract.TYPE: contract
    for contract in (
        PaymentAttempted,
        PaymentProcessing,
        PaymentSucceeded,
        PaymentFailed,
        PaymentDeadLettered,
        PaymentReopened,
    )
}


def _recording(payment: Payment, charge_id: str | None) -> Payment:
    """The charge id the PSP gave the worker, kept (a webhook's outcome only counts once
    reconciled, so only attempts and processing record one)."""
    return replace(payment, charges=payment.charges | {charge_id}) if charge_id else payment


def _started(event: RecordedEvent, data: PaymentRequested) -> Payment:
    return Payment(
        id=data.payment_id,
        order_id=data.order_id,
        user_id=data.user_id,
        game_id=data.game_id,
        game_title=data.game_title,
        amount_cents=data.amount_cents,
        currency=data.currency,
        payment_method=data.payment_method,
        status="pending",
        version=event.version,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
        correlation_id=event.correlation_id,
        history=((event.type, event.occurred_at),),
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """A terminal answer about a payment, from the worker (PSP response) or a webhook.

    ``cause`` names what produced it (``worker:attempt-3``, ``webhook:<webhook-id>``); it makes the
    event id, so the same cause never appends twice.
    """

    succeeded: bool
    source: Literal["worker", "webhook"]
    cause: str
    charge_id: str | None = None
    reason: str | None = None
    anomaly: str | None = None  # why the charge is not this payment's (``Payment.reconcile``)


def decide_outcome(payment: Payment, outcome: Outcome) -> list[NewEvent]:
    """First terminal outcome wins: append it; the same one again → nothing; the other one, or
    one about a charge the payment did not ask for → an anomaly recorded on the stream (never
    an exception) that changes nothing."""
    event_id = derived_id(payment.id, outcome.cause)
    if outcome.anomaly is not None:
        return [_anomaly(payment, outcome, event_id, outcome.anomaly)]
    if not payment.terminal:
        return [_outcome_event(payment, outcome, event_id)]
    if (payment.status == "succeeded") == outcome.succeeded:
        return []
    return [_anomaly(payment, outcome, event_id, "contradicts_outcome")]


def _anomaly(payment: Payment, outcome: Outcome, event_id: uuid.UUID, why: str) -> NewEvent:
    ignored = "succeeded" if outcome.succeeded else f"failed:{outcome.reason}"
    anomaly = PaymentAnomalyRecorded(
        payment_id=payment.id,
        kept=payment.status,
        ignored=ignored,
        source=outcome.source,
        reason=why,
        charge_id=outcome.charge_id,
    )
    return anomaly.new_event(event_id=event_id)


def _outcome_event(payment: Payment, outcome: Outcome, event_id: uuid.UUID) -> NewEvent:
    said = payment.ids() | {"charge_id": outcome.charge_id, "source": outcome.source}
    if outcome.succeeded:
        return PaymentSucceeded(**said).new_event(event_id=event_id)
    return PaymentFailed(**said, reason=outcome.reason).new_event(event_id=event_id)


def decide_attempt(
    payment: Payment,
    attempt: int,
    outcome: str,
    error: str | None = None,
    charge_id: str | None = None,
) -> list[NewEvent]:
    """Record one PSP call (``outcome`` ∈ succeeded, declined, processing, transient) and the
    charge it answered with: the charge a later webhook must be about."""
    attempted = PaymentAttempted(
        payment_id=payment.id,
        attempt=attempt,
        outcome=outcome,
        error=error[:500] if error else None,
        charge_id=charge_id or None,
    )
    cause = f"attempt:{payment.epoch}:{attempt}"
    return [attempted.new_event(event_id=derived_id(payment.id, cause))]


def decide_processing(payment: Payment, charge_id: str) -> list[NewEvent]:
    """The PSP accepted the charge and will answer by webhook (``pm_card_async``)."""
    if payment.terminal or payment.charge_id == charge_id:
        return []
    processing = PaymentProcessing(payment_id=payment.id, charge_id=charge_id)
    cause = f"processing:{payment.epoch}:{charge_id}"
    return [processing.new_event(event_id=derived_id(payment.id, cause))]


def decide_dead_letter(payment: Payment, attempts: int, error: str) -> list[NewEvent]:
    """The worker gave up after ``attempts``: ``PaymentDeadLettered`` + ``PaymentFailed
    (processing_error)`` — unless an outcome arrived meanwhile (then only the dead letter)."""
    if payment.dead_lettered:
        return []
    cause = f"dead-letter:{payment.epoch}"
    dead = PaymentDeadLettered(
        payment_id=payment.id, order_id=payment.order_id, attempts=attempts, error=error[:500]
    ).new_event(event_id=derived_id(payment.id, cause))
    if payment.terminal:
        return [dead]
    failure = Outcome(False, "worker", f"{cause}:failed", reason=PROCESSING_ERROR)
    return [dead, *decide_outcome(payment, failure)]


def decide_reopen(payment: Payment) -> list[NewEvent]:
    """An operator replayed the dead letter: a payment that failed with ``processing_error`` and
    was dead-lettered starts again (the caller has checked the order is unpaid and this payment
    is still its current one)."""
    if not (payment.dead_lettered and payment.failure_reason == PROCESSING_ERROR):
        return []
    reopened = PaymentReopened(payment_id=payment.id, order_id=payment.order_id)
    cause = f"reopen:{payment.epoch}"
    return [reopened.new_event(event_id=derived_id(payment.id, cause))]
