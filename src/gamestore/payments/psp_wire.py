"""Our client's model of the PSP's public HTTP API: the request it sends and the headers it
names. The PSP is another company's system; these types are ours, written from its published
API (``POST /v1/charges``, Standard Webhooks headers), so that nothing here depends on the code
that happens to simulate it."""

from __future__ import annotations

from pydantic import BaseModel, Field

IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
REQUEST_ID = "X-Request-ID"
WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class ChargeRequest(BaseModel):
    """The body of ``POST /v1/charges`` (sent with an ``Idempotency-Key`` header)."""

    amount_cents: int = Field(ge=0, le=2**63 - 1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payment_method: str = Field(min_length=1, max_length=100)
    payment_id: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=1000)
