"""Verified PSP webhooks, each stored once with its ``PspWebhookReceived``.

A verified webhook is stored by its ``webhook-id`` and ``PspWebhookReceived`` is emitted in the
SAME unit of work; a duplicate id writes nothing more and still answers 204. The webhook
function applies the event to the Payment aggregate later (``payments.webhook_function``), so
the PSP gets its answer fast. A webhook whose payment is settled with its outcome already (the
worker had the PSP's answer first: the usual case) is stored without an event, since applying
it would change nothing (ADR 014).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from gamestore.payments.events import PspWebhookReceived
from gamestore.payments.repository import PaymentsRepo, ReceivedWebhook
from gamestore.payments.schemas import PspWebhook
from gamestore.payments.webhook_signatures import (
    MalformedWebhook,
    WebhookRejected,
    WebhookVerifier,
    rejection,
)
from gamestore.platform.clock import utcnow
from gamestore.platform.eventstore import NO_STREAM
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.i18n import N_
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import WEBHOOK_DELIVERIES
from gamestore.platform.uow import UnitOfWork

Received = Literal["staged", "applied"]
RECEIVED_LINES: dict[Received | None, str] = {
    "staged": "webhook accepted",
    "applied": "webhook accepted: its payment is settled with this outcome already",
    None: "webhook duplicate (already stored)",
}
log = get_logger("payments")
MAX_BODY = 1024 * 1024
TOO_LARGE = define(413, "webhook_too_large", N_("The webhook body is larger than 1 MiB."))


def received_event(webhook_id: str, webhook: PspWebhook) -> PspWebhookReceived:
    """``PspWebhookReceived`` (data per docs/adr/008)."""
    return PspWebhookReceived(
        webhook_id=webhook_id,
        type=webhook.type,
        payment_id=webhook.data.payment_id,
        charge_id=webhook.data.charge_id,
        amount_cents=webhook.data.amount_cents,
        currency=webhook.data.currency,
        failure_code=webhook.data.failure_code,
    )


AlreadyApplied = Callable[[Mapping[str, Any]], Awaitable[bool]]


async def _never_applied(_: Mapping[str, Any]) -> bool:
    return False


class WebhookInbox:
    """Verifies webhooks and stores each one once, with its event, in one unit of work.

    ``already_applied(data)`` tells whether the event would change nothing (its payment is
    settled with this outcome already, ``webhook_function.already_applied``): such a webhook
    is stored and answered without an event (ADR 014)."""

    def __init__(
        self,
        uow: UnitOfWork[PaymentsRepo],
        verifier: WebhookVerifier,
        *,
        already_applied: AlreadyApplied = _never_applied,
    ) -> None:
        self._uow = uow
        self._verifier = verifier
        self._already_applied = already_applied

    async def accept(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Verify and store; True when new, False for a duplicate. Raises the 401/400/413
        problems. Logs the outcome with the reason only (never the body or a signature)."""
        if len(body) > MAX_BODY:
            WEBHOOK_DELIVERIES.labels("rejected", "too_large").inc()
            raise ProblemError.of(TOO_LARGE)
        try:
            webhook_id, webhook = self._verifier.verify(body, headers)
        except (WebhookRejected, MalformedWebhook) as error:
            WEBHOOK_DELIVERIES.labels("rejected", rejection(error)).inc()
            log.warning("webhook rejected", status=error.status, reason=error.reason)
            raise
        received = await self.receive(webhook_id, webhook)
        WEBHOOK_DELIVERIES.labels("accepted", "duplicate" if received is None else "new").inc()
        log.info(
            RECEIVED_LINES[received],
            webhook_id=webhook_id,
            type=webhook.type,
            payment_id=webhook.data.payment_id,
        )
        return received is not None

    async def receive(self, webhook_id: str, webhook: PspWebhook) -> Received | None:
        """How a webhook was stored: ``"staged"`` with its event, ``"applied"`` without one
        (it would change nothing), or None for a duplicate id (nothing written)."""
        event = received_event(webhook_id, webhook)
        applied = await self._already_applied(event.payload())
        kept = ReceivedWebhook(
            webhook_id=webhook_id,
            type=webhook.type,
            payment_id=webhook.data.payment_id[:36],
            body=webhook.model_dump(mode="json"),
            received_at=utcnow(),
        )
        async with self._uow() as tx:
            if not await tx.repo.store_webhook(kept):
                return None
            if applied:
                return "applied"
            tx.emit(f"webhook-{webhook_id}", event, NO_STREAM)
        return "staged"
