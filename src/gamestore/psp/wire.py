"""The PSP's wire format, as the simulator serves it: its public HTTP API and nothing else.

The simulator plays another company: the store does not import this module, it keeps its own
model of the same API (``payments/psp_wire.py``), and the two meet only on the wire (tests hold
them to each other). It depends on pydantic and the standard library only.

Webhooks are signed with Standard Webhooks (https://www.standardwebhooks.com):
``webhook-signature: v1,<base64 HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}")>``;
verify with ``standardwebhooks.Webhook(secret)``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, Field

IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
REQUEST_ID = "X-Request-ID"
WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
MAX_IDEMPOTENCY_KEY = 255

WebhookType = Literal["charge.succeeded", "charge.failed"]
CHARGE_SUCCEEDED: Final = "charge.succeeded"
CHARGE_FAILED: Final = "charge.failed"


class Outcome(StrEnum):
    """What a test card does when charged."""

    SUCCEEDED = "succeeded"
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROCESSING_ERROR = "processing_error"
    ASYNC = "async"


TEST_CARDS: dict[str, Outcome] = {
    "pm_card_visa": Outcome.SUCCEEDED,
    "pm_card_chargeDeclined": Outcome.CARD_DECLINED,
    "pm_card_chargeDeclinedInsufficientFunds": Outcome.INSUFFICIENT_FUNDS,
    "pm_card_chargeDeclinedProcessingError": Outcome.PROCESSING_ERROR,
    "pm_card_async": Outcome.ASYNC,
}

ChargeStatus = Literal["succeeded", "failed", "processing"]


def outcome_of(payment_method: str) -> Outcome | None:
    """The outcome of a test card token, or None for a token the PSP does not know."""
    return TEST_CARDS.get(payment_method)


class ChargeRequest(BaseModel):
    """``POST /v1/charges`` body (with an ``Idempotency-Key`` header)."""

    amount_cents: int = Field(ge=0, le=2**63 - 1)  # what a BIGINT column holds
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payment_method: str = Field(min_length=1, max_length=100)
    payment_id: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=1000)


class Charge(BaseModel):
    """A charge in the PSP's ledger: 200 succeeded, 402 failed, 202 processing."""

    id: str
    object: Literal["charge"] = "charge"
    status: ChargeStatus
    amount_cents: int
    currency: str
    payment_id: str
    payment_method: str
    idempotency_key: str | None = None  # the merchant's key the charge was created under
    description: str | None = None
    failure_code: str | None = None
    created_at: str
    updated_at: str


class ChargeList(BaseModel):
    """``GET /v1/charges``: the ledger, oldest first."""

    data: list[Charge]
    total: int


class ErrorDetail(BaseModel):
    code: str
    message: str = ""


class ErrorBody(BaseModel):
    """Every PSP error: ``{error: {code, message}}`` (e.g. 500 ``processing_error``)."""

    error: ErrorDetail


class WebhookData(BaseModel):
    charge_id: str
    payment_id: str
    amount_cents: int
    currency: str
    failure_code: str | None = None


class WebhookBody(BaseModel):
    """The signed webhook body: ``{type, data: {charge_id, payment_id, ...}}``."""

    type: WebhookType
    data: WebhookData


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_api_key() -> str:
    """A fresh secret API key, Stripe-style: ``sk_test_`` + 32 random bytes, URL-safe."""
    return "sk_test_" + secrets.token_urlsafe(32)


def webhook_secret(data_dir: Path) -> str:
    """The shared webhook secret at ``<data_dir>/keys/psp_webhook_secret`` (see :func:`kept`)."""
    return kept(data_dir / "keys" / "psp_webhook_secret", new_webhook_secret)


def api_key(data_dir: Path) -> str:
    """The PSP's secret API key at ``<data_dir>/keys/psp_api_key`` (see :func:`kept`)."""
    return kept(data_dir / "keys" / "psp_api_key", new_api_key)


def kept(path: Path, new: Callable[[], str]) -> str:
    """The secret kept at ``path``, created (mode 0600) with ``new()`` if absent.

    The PSP and the payments side both call this in the embedded default; whichever runs
    first writes it. The file appears atomically (written aside, then hard-linked into place),
    so a concurrent reader never sees a half-written secret and both sides end with the same one.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(new() + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
        finally:
            aside.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()
