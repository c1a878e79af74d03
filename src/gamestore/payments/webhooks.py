"""``POST /webhooks/psp``: the PSP's signed webhooks, verified, deduplicated and stored.

Verification is Standard Webhooks (HMAC-SHA256 over ``id.timestamp.body``, ±5 minutes) against
every configured secret, so a secret can be rotated without losing webhooks signed with the old
one while both are listed. A verified webhook is stored by its ``webhook-id`` and
``PspWebhookReceived`` is staged through the outbox in the SAME transaction; a duplicate id
writes nothing more and still answers 204. The webhook function applies the event to the
Payment aggregate later (``payments.webhook_function``), so the PSP gets its answer fast. A
webhook whose payment is settled with its outcome already (the worker had the PSP's answer
first: the usual case) is stored without an event, since applying it would change nothing
(ADR 014).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from gamestore.payments.schemas import PspWebhook
from gamestore.payments.tables import outbox, webhooks
from gamestore.platform.config import Settings
from gamestore.platform.db import Upsert
from gamestore.platform.eventstore import NO_STREAM, NewEvent
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.http.openapi import problems
from gamestore.platform.i18n import N_
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import WEBHOOK_DELIVERIES

Received = Literal["staged", "applied"]
RECEIVED_LINES: dict[Received | None, str] = {
    "staged": "webhook accepted",
    "applied": "webhook accepted: its payment is settled with this outcome already",
    None: "webhook duplicate (already stored)",
}
_STORE = Upsert(
    webhooks, lambda insert: insert.on_conflict_do_nothing(index_elements=["webhook_id"])
)
log = get_logger("payments")
PSP_WEBHOOK_RECEIVED = "PspWebhookReceived"
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_BODY = 1024 * 1024
MAX_WEBHOOK_ID = 255


REJECTED = define(
    401, "webhook_signature_invalid", N_("The webhook signature is missing, invalid or expired.")
)
MALFORMED = define(400, "webhook_malformed", N_("The webhook body is not a PSP event."))
TOO_LARGE = define(413, "webhook_too_large", N_("The webhook body is larger than 1 MiB."))


class WebhookRejected(ProblemError):
    """Not signed by the PSP with a secret we hold, or too old/new: 401. ``reason`` is for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(REJECTED.status, REJECTED.detail, code=REJECTED.code)
        self.reason = reason


class MalformedWebhook(ProblemError):
    """Signed, but not the wire format: 400."""

    def __init__(self, reason: str) -> None:
        super().__init__(MALFORMED.status, MALFORMED.detail, code=MALFORMED.code)
        self.reason = reason


def configured_secrets(settings: Settings) -> list[str]:
    """``GAMESTORE_PSP_WEBHOOK_SECRETS`` (comma-separated, for rotation), else the PSP's own
    ``GAMESTORE_PSP_WEBHOOK_SECRET``, else the secret kept under ``<data_dir>/keys/``."""
    listed = os.environ.get("GAMESTORE_PSP_WEBHOOK_SECRETS", "")
    secrets = [part.strip() for part in listed.split(",") if part.strip()]
    single = os.environ.get("GAMESTORE_PSP_WEBHOOK_SECRET", "").strip()
    return secrets or ([single] if single else [_stored_secret(settings.data_dir)])


def _stored_secret(data_dir: Path) -> str:
    from gamestore.psp.wire import webhook_secret

    return webhook_secret(data_dir)


class WebhookVerifier:
    """Checks a webhook against each secret in turn (a bad secret fails at construction)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is needed")
        self._webhooks = [Webhook(secret) for secret in secrets]

    def verify(self, body: bytes, headers: Mapping[str, str]) -> tuple[str, PspWebhook]:
        """The webhook id and the parsed body; :class:`WebhookRejected` or
        :class:`MalformedWebhook`."""
        signed = {name: headers.get(name, "") for name in HEADERS}
        if not all(signed.values()):
            raise WebhookRejected("missing webhook headers")
        reasons = [self._check(webhook, body, signed) for webhook in self._webhooks]
        if all(reasons):
            raise WebhookRejected(reasons[0] or "no matching signature")
        webhook_id = signed["webhook-id"]
        if len(webhook_id) > MAX_WEBHOOK_ID:
            raise MalformedWebhook("webhook-id too long")
        try:
            return webhook_id, PspWebhook.model_validate_json(body)
        except ValidationError as error:
            raise MalformedWebhook(f"{error.error_count()} validation errors") from None

    @staticmethod
    def _check(webhook: Webhook, body: bytes, headers: dict[str, str]) -> str:
        """'' when ``webhook``'s secret signed it; else why not (any library error counts:
        it raises ValueError for a signature without a comma, binascii errors for bad base64)."""
        try:
            webhook.verify(body, headers, json_parse=False)
        except Exception as error:
            return f"{type(error).__name__}: {str(error)[:100]}"
        return ""


def rejection(error: WebhookRejected | MalformedWebhook) -> str:
    """The metric label of a refusal: one of a few words, never the library's message."""
    if isinstance(error, MalformedWebhook):
        return "malformed"
    if error.reason == "missing webhook headers":
        return "missing_headers"
    return "timestamp" if "timestamp" in error.reason.lower() else "signature"


def received_event(webhook_id: str, webhook: PspWebhook) -> NewEvent:
    """``PspWebhookReceived`` (data per docs/adr/008)."""
    data: dict[str, Any] = {
        "webhook_id": webhook_id,
        "type": webhook.type,
        "payment_id": webhook.data.payment_id,
        "charge_id": webhook.data.charge_id,
        "amount_cents": webhook.data.amount_cents,
        "currency": webhook.data.currency,
    }
    if webhook.data.failure_code is not None:
        data["failure_code"] = webhook.data.failure_code
    return NewEvent(PSP_WEBHOOK_RECEIVED, data)


AlreadyApplied = Callable[[Mapping[str, Any]], Awaitable[bool]]


async def _never_applied(_: Mapping[str, Any]) -> bool:
    return False


class WebhookInbox:
    """Verifies webhooks and stores each one once, with its event, in one transaction.

    ``already_applied(data)`` tells whether the event would change nothing (its payment is
    settled with this outcome already, ``webhook_function.already_applied``): such a webhook
    is stored and answered without an event (ADR 014)."""

    def __init__(
        self,
        engine: AsyncEngine,
        verifier: WebhookVerifier,
        *,
        on_commit: Callable[[], None],
        already_applied: AlreadyApplied = _never_applied,
    ) -> None:
        self._engine = engine
        self._verifier = verifier
        self._on_commit = on_commit
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
        applied = await self._already_applied(event.data)
        row = {
            "webhook_id": webhook_id,
            "type": webhook.type,
            "payment_id": webhook.data.payment_id[:36],
            "body": webhook.model_dump(mode="json"),
            "received_at": datetime.now(UTC),
        }
        async with self._engine.begin() as conn:
            if (await _STORE.execute(conn, row)).rowcount != 1:
                return None
            if applied:
                return "applied"
            await outbox.add(conn, f"webhook-{webhook_id}", [event], NO_STREAM)
        self._on_commit()
        return "staged"


router = APIRouter()


@router.post("/webhooks/psp", status_code=204, tags=["webhooks"], responses=problems(400, 401, 413))
async def psp_webhook(request: Request) -> Response:
    """Where the PSP reports charge outcomes (Standard Webhooks signature, no token).

    204 once the webhook is stored (a duplicate `webhook-id` too); 401 for a missing, invalid or
    rotated-out signature or a timestamp more than 5 minutes off; 400 for a signed body that is
    not a PSP event; 413 over 1 MiB."""
    inbox: WebhookInbox = request.app.state.webhook_inbox
    await inbox.accept(await request.body(), request.headers)
    return Response(status_code=204)
