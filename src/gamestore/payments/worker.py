"""The ``payment-worker`` process: payment commands from the queue ``payments`` → PSP charges.

Every message ``{payment_id}`` means "make this payment terminal" (docs/adr/008):

1. Fold the payment. A terminal payment is left alone (a duplicate command never charges) —
   except one dead-lettered with ``processing_error`` whose dead letter an operator replayed:
   it is re-opened (``PaymentReopened``) if, in one payments-database transaction, its order is
   unpaid and it is still the order's current payment; otherwise the replay is ignored.
2. Charge it at the PSP with ``Idempotency-Key`` = the payment id (``<id>:<epoch>`` after a
   re-open, so the PSP really charges again) and ``X-Request-ID`` = the correlation id. A
   re-opened payment first looks in the PSP's ledger for a charge whose answer never reached
   us (the calls timed out until the dead letter): that charge — if it is the payment's own,
   under one of its keys, of its amount — is its outcome, not a new one.
3. Record the call (``PaymentAttempted``, with the charge id the PSP answered), then its outcome:
   ``PaymentSucceeded``, ``PaymentFailed`` (declined), ``PaymentProcessing`` (the webhook
   finishes it) — but only for a charge of the payment's amount and currency: another one is
   ``PaymentAnomalyRecorded`` and the payment is dead-lettered for an operator to reconcile —
   or for a ``processing_error`` a
   retry with backoff — after ``max_attempts`` deliveries (unless the PSP's ledger shows the
   charge went through unanswered) ``PaymentDeadLettered`` + ``PaymentFailed(processing_error)``
   and the queue dead-letters the message.
4. A PSP that cannot answer at all (5xx, 429, a timeout, a refused connection) is not an
   attempt and records nothing: :class:`PspUnavailable` makes the queue hold the message and
   call again after a pause (``Retry-After`` honoured) for as long as the outage lasts — up to
   the outage budget (``GAMESTORE_PAYMENT_PSP_OUTAGE_BUDGET_SECONDS``, 20 minutes), after
   which the payment is dead-lettered as in 3. The same holds for the worker's own database
   and event store: their outages are waited out; a dead letter's events are always written
   before its message is acked.

Crash safety: the message is acked only after the outcome is appended. A worker killed after
the PSP charged gets the message again; the same key makes the PSP replay the same charge, and
the outcome's derived event id makes its append happen once. No line logs the payment method.
"""

from __future__ import annotations

import time

from gamestore.payments.aggregate import Decision, Payments
from gamestore.payments.domain import (
    PROCESSING_ERROR,
    ChargeFacts,
    Outcome,
    Payment,
    decide_attempt,
    decide_dead_letter,
    decide_outcome,
    decide_processing,
    decide_reopen,
)
from gamestore.payments.psp_client import ChargeResult, LedgerCharge, PspClient
from gamestore.payments.psp_wire import ChargeRequest
from gamestore.payments.repository import PaymentsRepo
from gamestore.platform.eventstore import NewEvent
from gamestore.platform.faults import TransientError, is_transient
from gamestore.platform.ids import canonical_uuid
from gamestore.platform.logs import get_logger
from gamestore.platform.queue import Message, PermanentError, RetriesExhausted, describe
from gamestore.platform.uow import UnitOfWork

log = get_logger("payment-worker")
QUEUE = "payments"
ATTEMPT_OUTCOME = {"rejected": "transient"}  # PaymentAttempted knows four outcomes
SETTLING = ("succeeded", "processing")  # ledger charges that settle a payment


class ChargeFailed(Exception):
    """The PSP answered that the charge failed this time (``processing_error``): an attempt;
    the queue retries the message with backoff and dead-letters it after the last one."""


class PspUnavailable(TransientError):
    """The PSP could not answer at all: not an attempt; the queue waits it out."""


def charge_request(payment: Payment) -> ChargeRequest:
    """The PSP charge of ``payment``: its amount, its card, a description the player knows."""
    return ChargeRequest(
        payment_id=payment.id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        payment_method=payment.payment_method,
        description=f"GameStore order {payment.order_id}: {payment.game_title}"[:1000],
    )


def payment_id_of(message: Message) -> str:
    """The payment a message names; a malformed message can never succeed (dead-lettered)."""
    value = message.body.get("payment_id")
    payment_id = canonical_uuid(str(value))
    if payment_id is None:
        raise PermanentError(f"message without a valid payment_id: {str(value)[:64]!r}")
    return payment_id


def _nothing(payment: Payment) -> list[NewEvent]:
    return []


class PaymentWorker:
    """The queue handler: one message → one charge attempt → events on the payment's stream."""

    def __init__(
        self,
        payments: Payments,
        uow: UnitOfWork[PaymentsRepo],
        psp: PspClient,
        *,
        max_attempts: int,
        outage_budget: float = 1200.0,
    ) -> None:
        self._payments = payments
        self._uow = uow  # the payments database: the order a re-open checks
        self._psp = psp
        self._max_attempts = max_attempts
        self._outage_budget = outage_budget
        self._unavailable_since: dict[str, float] = {}  # message id → first unanswered call

    async def handle(self, message: Message) -> None:
        """Handle one delivery (the queue has set its correlation id); raising retries it."""
        try:
            await self._handle(message)
        except Exception as error:
            if not is_transient(error):
                self._unavailable_since.pop(message.id, None)
            raise
        self._unavailable_since.pop(message.id, None)

    async def _handle(self, message: Message) -> None:
        payment = await self._ready(await self._payments.get(payment_id_of(message)))
        if payment is None:
            return
        result = await self._charge(payment)
        if result.kind == "unavailable":
            return await self._unavailable(payment, message, result)
        await self._record(payment, message.attempts, result)

    async def _unavailable(self, payment: Payment, message: Message, result: ChargeResult) -> None:
        """Wait the PSP out (raise :class:`PspUnavailable`) until the outage budget is spent
        for this message, then dead-letter the payment."""
        since = self._unavailable_since.setdefault(message.id, time.monotonic())
        error = result.error or "the PSP is unavailable"
        waited = time.monotonic() - since
        if waited < self._outage_budget:
            raise PspUnavailable(error, retry_after=result.retry_after)
        log.error("psp unavailable beyond the outage budget", payment_id=payment.id,
                  seconds=round(waited), error=error)  # fmt: skip
        text = f"the PSP did not answer for {round(waited)} s (last: {error})"
        await self._dead_letter(payment, message.attempts, RetriesExhausted(text))

    async def _charge(self, payment: Payment) -> ChargeResult:
        """Charge at the PSP. A re-opened payment is charged under a new key, so it first asks
        the PSP for a charge of an earlier epoch whose answer was lost (timeouts until the dead
        letter): that charge is the outcome, and the player is not charged twice."""
        earlier = await self._earlier_charge(payment) if payment.epoch > 0 else None
        if earlier is not None:
            return earlier  # (a failed lookup is "unavailable": waited out like a charge)
        log.info("charging at the psp", payment_id=payment.id, epoch=payment.epoch)
        return await self._psp.charge(charge_request(payment), payment.idempotency_key)

    async def _earlier_charge(self, payment: Payment) -> ChargeResult | None:
        """The PSP's charge for this payment if it holds one, None if not, ``unavailable`` if
        the lookup failed."""
        earlier = await self._psp.find_charge(
            payment.id, lambda charge: payment.reconcile(_facts(charge)) is None
        )
        if earlier is not None and earlier.kind in SETTLING:
            log.warning(
                "earlier charge found at the PSP; not charging again",
                payment_id=payment.id,
                charge_id=earlier.charge_id,
                status=earlier.kind,
            )
        return earlier

    async def _ready(self, payment: Payment) -> Payment | None:
        """The payment to charge now, or None when this message has nothing left to do."""
        if not payment.terminal:
            return payment
        if payment.dead_lettered and payment.failure_reason == PROCESSING_ERROR:
            return await self._reopen(payment)
        log.info("already final", payment_id=payment.id, status=payment.status)
        return None

    async def _reopen(self, payment: Payment) -> Payment | None:
        """Re-open a replayed dead letter if its order still waits for this very payment."""
        async with self._uow() as tx:  # holds the order row until the append is done
            order = await tx.repo.order(payment.order_id, lock=True)
            if order is None or order.paid or order.current_payment_id != payment.id:
                log.info("replay of a superseded/paid payment ignored", payment_id=payment.id)
                return None
            reopened = await self._payments.change(payment.id, decide_reopen)
        log.info("payment reopened", payment_id=payment.id, epoch=reopened.epoch)
        return None if reopened.terminal else reopened

    async def _record(self, payment: Payment, attempt: int, result: ChargeResult) -> None:
        """Append the attempt with its outcome (one append); a transient failure raises
        (retry or DLQ)."""
        outcome = ATTEMPT_OUTCOME.get(result.kind, result.kind)

        def tried(p: Payment) -> list[NewEvent]:
            return decide_attempt(p, attempt, outcome, result.error, result.charge_id)

        fields = {"payment_id": payment.id, "attempt": attempt, "outcome": result.kind}
        if result.kind in ("transient", "rejected"):
            await self._payments.change(payment.id, tried)
            log.warning("psp attempt", **fields, error=result.error)
            return await self._failed(payment, attempt, result)
        log.info("psp attempt", **fields, charge_id=result.charge_id, replayed=result.replayed)
        anomaly = payment.reconcile(_answered(payment, result))
        if anomaly is not None:
            return await self._unreconciled(payment, attempt, result, anomaly, tried)
        await self._settle(payment, attempt, result, tried)

    async def _unreconciled(
        self, payment: Payment, attempt: int, result: ChargeResult, anomaly: str, tried: Decision
    ) -> None:
        """The PSP answered with a charge of another amount or currency: recorded as an
        anomaly that changes nothing, and the payment goes to the dead letters."""
        cause = f"worker:{payment.epoch}:{attempt}:anomaly"
        outcome = Outcome(
            result.kind == "succeeded", "worker", cause, result.charge_id, result.failure_code,
            anomaly=anomaly,
        )  # fmt: skip
        await self._payments.change(payment.id, lambda p: [*tried(p), *decide_outcome(p, outcome)])
        error = (
            f"the PSP's charge {result.charge_id} is {result.amount_cents} {result.currency}, "
            f"not the payment's {payment.amount_cents} {payment.currency}"
        )
        log.error("psp charge does not match the payment", payment_id=payment.id, error=error)
        await self._dead_letter(payment, attempt, PermanentError(error), look=False)

    async def _settle(
        self, payment: Payment, attempt: int, result: ChargeResult, tried: Decision = _nothing
    ) -> None:
        """Append what a succeeded, declined or processing answer means for the payment
        (after ``tried``'s events, in the same append)."""
        if result.kind != "processing":
            return await self._conclude(payment, attempt, result, tried)
        charge_id = result.charge_id or ""
        await self._payments.change(
            payment.id, lambda p: [*tried(p), *decide_processing(p, charge_id)]
        )
        log.info("payment processing", payment_id=payment.id, attempt=attempt, charge_id=charge_id)

    async def _conclude(
        self, payment: Payment, attempt: int, result: ChargeResult, tried: Decision
    ) -> None:
        succeeded = result.kind == "succeeded"
        cause = f"worker:{payment.epoch}"
        outcome = Outcome(succeeded, "worker", cause, result.charge_id, result.failure_code)
        after = await self._payments.change(
            payment.id, lambda p: [*tried(p), *decide_outcome(p, outcome)]
        )
        log.info(
            "payment succeeded" if succeeded else "payment declined",
            payment_id=payment.id,
            attempt=attempt,
            outcome=result.kind,
            reason=result.failure_code,
            status=after.status,  # another source may have settled it first (the first wins)
        )

    async def _failed(self, payment: Payment, attempt: int, result: ChargeResult) -> None:
        error = result.error or "a transient PSP failure"
        if result.kind == "rejected":
            rejected = PermanentError(f"the PSP rejected the charge ({error})")
            return await self._dead_letter(payment, attempt, rejected, look=False)
        if attempt < self._max_attempts:
            raise ChargeFailed(error)
        tries = "the only attempt" if attempt == 1 else f"each of {attempt} attempts"
        await self._dead_letter(
            payment, attempt, RetriesExhausted(f"the PSP answered {error} on {tries}")
        )

    async def _dead_letter(
        self, payment: Payment, attempt: int, failure: PermanentError, *, look: bool = True
    ) -> None:
        """``PaymentDeadLettered`` + ``PaymentFailed``, then the queue's dead letter — unless
        (``look``) the PSP's ledger shows a charge that went through unanswered: that charge
        is the outcome. An outage while writing raises a transient error: not acked yet."""
        if look:
            earlier = await self._earlier_charge(payment)
            if earlier is not None and earlier.kind in SETTLING:
                return await self._settle(payment, attempt, earlier)
        error = describe(failure)  # the event and the dead letter say the same
        await self._payments.change(payment.id, lambda p: decide_dead_letter(p, attempt, error))
        log.error("payment dead-lettered", payment_id=payment.id, attempt=attempt, error=error)
        raise failure


def _facts(charge: LedgerCharge) -> ChargeFacts:
    return ChargeFacts(charge.id, charge.amount_cents, charge.currency, charge.idempotency_key)


def _answered(payment: Payment, result: ChargeResult) -> ChargeFacts:
    """The charge the PSP answered this call with: made under the payment's current key."""
    return ChargeFacts(
        result.charge_id or "", result.amount_cents, result.currency, payment.idempotency_key
    )
