"""The ``webhook-function`` process: stored PSP webhooks → the Payment aggregate.

It consumes ``PspWebhookReceived`` in the bus group ``webhook-function`` and applies each one
with the rule the payment worker shares: the first terminal outcome wins, the same one again
changes nothing, the other one is recorded as ``PaymentAnomalyRecorded`` (docs/adr/008). The
outcome event's id is derived from the webhook id, so a redelivered event (the bus is
at-least-once; a process killed mid-stream sees its events again) appends nothing new. A webhook
for a payment we do not know is logged and dropped: retrying cannot make it known.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

from gamestore.payments.aggregate import Payments
from gamestore.payments.domain import (
    PAYMENT_ANOMALY,
    Outcome,
    Payment,
    PaymentNotFound,
    decide_outcome,
)
from gamestore.payments.webhooks import PSP_WEBHOOK_RECEIVED
from gamestore.platform.bus import connect_bus
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import NewEvent, RecordedEvent, connect
from gamestore.platform.logs import get_logger

log = get_logger("webhook-function")
GROUP = "webhook-function"
Applied = Literal["applied", "duplicate", "anomaly", "unknown payment"]


def outcome_of(event: RecordedEvent) -> Outcome:
    """The outcome a ``PspWebhookReceived`` reports."""
    data = event.data
    succeeded = data.get("type") == "charge.succeeded"
    return Outcome(
        succeeded=succeeded,
        source="webhook",
        cause=f"webhook:{data['webhook_id']}",
        charge_id=data.get("charge_id"),
        reason=None if succeeded else str(data.get("failure_code") or "card_declined"),
    )


class WebhookFunction:
    """The handler: one webhook event applied to its payment, idempotently."""

    def __init__(self, payments: Payments) -> None:
        self._payments = payments

    async def handle(self, event: RecordedEvent) -> Applied:
        """Apply ``event``; what it did (also logged, one line per webhook)."""
        outcome = outcome_of(event)
        payment_id = str(event.data.get("payment_id"))
        decided: list[NewEvent] = []

        def decide(payment: Payment) -> list[NewEvent]:
            decided[:] = decide_outcome(payment, outcome)
            return decided

        result: Applied
        try:
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
        )
        return result


def _classify(decided: list[NewEvent]) -> Applied:
    if not decided:
        return "duplicate"
    return "anomaly" if decided[0].type == PAYMENT_ANOMALY else "applied"


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``webhook-function`` process: follow the bus until ``stop``."""
    async with contextlib.AsyncExitStack() as stack:
        store = await connect(settings.event_store_url)
        stack.push_async_callback(store.close)
        bus = await connect_bus(settings.bus_url, store)
        stack.push_async_callback(bus.close)
        handler = WebhookFunction(Payments(store))
        log.info("webhook function consuming", group=GROUP)

        async def handle(event: RecordedEvent) -> None:
            await handler.handle(event)

        await bus.consume(GROUP, [PSP_WEBHOOK_RECEIVED], handle, stop=stop)
    log.info("webhook function stopped")
