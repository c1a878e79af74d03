"""The ``webhook-function`` handler: stored PSP webhooks → the Payment aggregate
(its process is ``payments.bootstrap.webhook_function_main``).

It consumes ``PspWebhookReceived`` in the bus group ``webhook-function`` and applies each one
with the rule the payment worker shares: the first terminal outcome wins, the same one again
changes nothing, the other one is recorded as ``PaymentAnomalyRecorded`` (docs/adr/008). The
outcome event's id is derived from the webhook id, so a redelivered event (the bus is
at-least-once; a process killed mid-stream sees its events again) appends nothing new. A webhook
for a payment we do not know is logged and dropped: retrying cannot make it known.

A signed webhook is not yet a payment: its outcome counts only for a charge this payment asked
for, of its amount and currency (``Payment.reconcile``). A charge the worker has not recorded
(its answer is still on the way, or was lost in a crash) is looked up in the PSP's ledger, with
our secret API key: it counts if the PSP holds it under one of the payment's idempotency keys,
with the same amount, currency and outcome. Anything else is ``PaymentAnomalyRecorded`` and
changes nothing. A PSP that cannot answer the lookup is an outage: the bus retries in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

from gamestore.payments.aggregate import Payments
from gamestore.payments.domain import (
    UNKNOWN_CHARGE,
    ChargeFacts,
    Outcome,
    Payment,
    PaymentNotFound,
    decide_outcome,
)
from gamestore.payments.events import PaymentAnomalyRecorded
from gamestore.payments.psp_client import LedgerCharge
from gamestore.platform.eventstore import NewEvent, RecordedEvent
from gamestore.platform.logs import get_logger

log = get_logger("webhook-function")
GROUP = "webhook-function"
Applied = Literal["applied", "duplicate", "anomaly", "unknown payment"]


class ChargeLedger(Protocol):
    """Where a charge the worker has not recorded is looked up (the PSP's API)."""

    async def get_charge(self, charge_id: str) -> LedgerCharge | None: ...


def outcome_of(data: Mapping[str, Any], anomaly: str | None = None) -> Outcome:
    """The outcome a ``PspWebhookReceived``'s data reports (``anomaly``: why it is not the
    payment's)."""
    succeeded = data.get("type") == "charge.succeeded"
    return Outcome(
        succeeded=succeeded,
        source="webhook",
        cause=f"webhook:{data['webhook_id']}",
        charge_id=data.get("charge_id"),
        reason=None if succeeded else str(data.get("failure_code") or "card_declined"),
        anomaly=anomaly,
    )


def reported(data: Mapping[str, Any]) -> ChargeFacts:
    """The charge a webhook reports (its amount as the PSP signed it)."""
    amount = data.get("amount_cents")
    return ChargeFacts(
        str(data.get("charge_id") or ""),
        amount if isinstance(amount, int) else None,
        str(data.get("currency") or ""),
    )


class WebhookFunction:
    """The handler: one webhook event reconciled with its payment and applied, idempotently."""

    def __init__(self, payments: Payments, ledger: ChargeLedger) -> None:
        self._payments = payments
        self._ledger = ledger

    async def handle(self, event: RecordedEvent) -> Applied:
        """Apply ``event``; what it did (also logged, one line per webhook)."""
        payment_id = str(event.data.get("payment_id"))
        decided: list[NewEvent] = []
        result: Applied
        why: str | None = None
        try:
            why = await self._reconcile(await self._payments.get(payment_id), event)
            outcome = outcome_of(event.data, why)

            def decide(payment: Payment) -> list[NewEvent]:
                decided[:] = decide_outcome(payment, outcome)
                return decided

            after = await self._payments.change(payment_id, decide)
        except PaymentNotFound:
            result, status = "unknown payment", None
        else:
            result, status = _classify(decided), after.status
        log_line = log.warning if result in ("anomaly", "unknown payment") else log.info
        log_line(
            f"webhook {result}",
            payment_id=payment_id,
            webhook_id=event.data.get("webhook_id"),
            outcome=result,
            type=event.data.get("type"),
            status=status,
            reason=why,
        )
        return result

    async def _reconcile(self, payment: Payment, event: RecordedEvent) -> str | None:
        """None when the webhook's charge is the payment's, else the anomaly's reason."""
        charge = reported(event.data)
        why = payment.reconcile(charge)
        if why != UNKNOWN_CHARGE:
            return why
        held = await self._ledger.get_charge(charge.charge_id) if charge.charge_id else None
        expected = "succeeded" if event.data.get("type") == "charge.succeeded" else "failed"
        if held is None or held.payment_id != payment.id or held.status != expected:
            return UNKNOWN_CHARGE
        return payment.reconcile(
            ChargeFacts(held.id, held.amount_cents, held.currency, held.idempotency_key)
        )


async def already_applied(payments: Payments, data: Mapping[str, Any]) -> bool:
    """Whether applying a webhook with this ``PspWebhookReceived`` data would change nothing:
    its payment is settled with this very outcome, by a charge the payment recorded (the
    usual case: the worker had the PSP's answer first). The payments endpoint then stores the
    webhook without staging the event (ADR 014). Anything else, including a payment not known
    yet or a charge to look up in the PSP's ledger, is for the webhook function to apply."""
    try:
        payment = await payments.get(str(data.get("payment_id")))
    except PaymentNotFound:
        return False
    if not payment.terminal or payment.reconcile(reported(data)) is not None:
        return False
    return not decide_outcome(payment, outcome_of(data))


def _classify(decided: list[NewEvent]) -> Applied:
    if not decided:
        return "duplicate"
    return "anomaly" if decided[0].type == PaymentAnomalyRecorded.TYPE else "applied"
