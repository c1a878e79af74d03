"""Request and response shapes of the payments API (CONTRACT.md "Payments"), apart from the
domain (``payments.domain``) and the tables (``payments.tables``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gamestore.platform.http.params import BIGINT_MAX

PaymentMethod = Literal[
    "pm_card_visa",
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeDeclinedProcessingError",
    "pm_card_async",
]
"""The PSP's test payment-method tokens; anything else is refused before any queueing."""

Status = Literal["pending", "processing", "succeeded", "failed"]


class PaymentIn(BaseModel):
    """``POST /pagamento``: pay (again) for one of the caller's orders."""

    model_config = ConfigDict(extra="forbid")

    order_id: uuid.UUID
    payment_method: PaymentMethod


class PaymentStarted(BaseModel):
    payment_id: str
    order_id: str
    status: Literal["pending"] = "pending"


class HistoryItem(BaseModel):
    type: str
    at: datetime


class PaymentSummary(BaseModel):
    """A payment in a list (``GET /pagamento``): the view's row, without the history."""

    id: str
    order_id: str
    user_id: str
    amount_cents: int
    currency: str
    status: Status
    failure_reason: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime


class PaymentPublic(PaymentSummary):
    """One payment as its event stream tells it (``GET /pagamento/{id}``): with its history."""

    history: list[HistoryItem]


class PaymentPage(BaseModel):
    items: list[PaymentSummary]
    total: int
    page: int
    size: int


class WebhookData(BaseModel):
    charge_id: str = Field(min_length=1, max_length=255)
    payment_id: str = Field(min_length=1, max_length=255)
    amount_cents: int = Field(ge=0, le=BIGINT_MAX)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    failure_code: str | None = Field(default=None, max_length=100)


class PspWebhook(BaseModel):
    """The PSP's signed webhook body (CONTRACT.md "Webhook wire format")."""

    type: Literal["charge.succeeded", "charge.failed"]
    data: WebhookData
