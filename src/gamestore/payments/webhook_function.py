"""The ``webhook-function`` handler: stored PSP webhooks → the Payment aggregate
(its process is ``payments.bootstrap.webhook_function_main``).

It consumes ``PspWebhookReceived`` in the bus group ``webhook-function`` and applies each one
with the rule the payment worker shares: the first terminal outcome wins, the same one again
changes nothing, the other one is recorded as ``PaymentAnomalyRecorded`` (docs/adr/008). The
outcome event's id is derived from the webhook id, so a redelivered event (the bus is
at-least-once; a process killed mid-stream sees its events again) appends nothing new. A webhook
for a payment we do not know is logged and dropped: retrying cannot make it known. The event is
read through its contract (``payments.events.PspWebhookReceived``): one that does not fit it is
a ``PoisonEvent``, retried then dead-lettered by the bus.

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
from gamestore.payments.events import PaymentAnomalyRecorded, PspWebhookReceived
from gamestore.payments.psp_client import LedgerCharge
from gamestore.platform.eventstore import NewEvent, RecordedEvent
from gamestore.platform.logs import get_logger

log = get_logger("webhook-function")
GROUP = "webhook-function"
Applied = Literal["applied", "duplicate", "anomaly", "unknown payment"]
SUCCEEDED = "charge.succeeded"  # a webhook's ``type`` for a charge that succeeded


class ChargeLedger(Protocol):
    """Where a charge the worker has not recorded is looked up (the PSP's API)."""

    async def get_charge(self, charge_id: str) -> LedgerCharge | None: ...


def outcome_of(webhook: PspWebhookReceived, anomaly: str | None = None) -> Outcome:
    """The outcome a webhook reports (``anomaly``: why it is not the payment's); a failure
    without a code is a declined card."""
    succeeded = webhook.type == SUCCEEDED
    return Outcome(
        succeeded=succeeded,
        source="webhook",
        cause=f"webhook:{webhook.webhook_id}",
        charge_id=webhook.charge_id,
        reason=None if succeeded else (webhook.failure_code or "card_declined"),
        anomaly=anomaly,
    )


def reported(webhook: PspWebhookReceived) -> ChargeFacts:
    """The charge a webhook reports (its amount as the PSP signed it)."""
    return ChargeFacts(webhook.charge_id, webhook.amount_cents, webhook.currency)


class WebhookFunction:
    """The handler: one webhook event reconciled with its payment and applied, idempotently."""

    def __init__(self, payments: Payments, ledger: ChargeLedger) -> None:
        self._payments = payments
        self._ledger = ledger

    async def handle(self, event: RecordedEvent) -> Applied:
        """Apply ``event``; what it did (also logged, one line per webhook).
        :class:`PoisonEvent` when it does not fit its contract."""
        webhook = PspWebhookReceived.parse(event)
        payment_id = webhook.payment_id
        decided: list[NewEvent] = []
        result: Applied
        why: str | None = None
        try:
            why = await self._reconcile(await self._payments.get(payment_id), webhook)
            outcome = outcome_of(webhook, why)

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
            webhook_id=webhook.webhook_id,
            outcome=result,
            type=webhook.type,
            status=status,
            reason=why,
        )
        return result

    async def _reconcile(self, payment: Payment, webhook: PspWebhookReceived) -> str | None:
        """None when the webhook's charge is the payment's, else the anomaly's reason."""
        charge = reported(webhook)
        why = payment.reconcile(charge)
        if why != UNKNOWN_CHARGE:
            return why
        held = await self._ledger.get_charge(charge.charge_id) if charge.charge_id else None
        expected = "succeeded" if webhook.type == SUCCEEDED else "failed"
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
    webhook = PspWebhookReceived.parse(data)
    try:
        payment = await payments.get(webhook.payment_id)
    except PaymentNotFound:
        return False
    if not payment.terminal or payment.reconcile(reported(webhook)) is not None:
        return False
    return not decide_outcome(payment, outcome_of(webhook))


def _classify(decided: list[NewEvent]) -> Applied:
    if not decided:
        return "duplicate"
    return "anomaly" if decided[0].type == PaymentAnomalyRecorded.TYPE else "applied"
