"""What the payments routes use, installed on the app once by ``payments.bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from gamestore.payments.aggregate import Payments
from gamestore.payments.orders import Orders
from gamestore.payments.projection import PaymentsView
from gamestore.payments.webhook_inbox import WebhookInbox
from gamestore.platform.http.state import state_of
from gamestore.platform.idempotency import Idempotency


@dataclass(frozen=True, slots=True)
class PaymentsState:
    """The payments service's use cases, for its routes."""

    orders: Orders
    payments: Payments
    view: PaymentsView
    idempotency: Idempotency
    webhooks: WebhookInbox


PaymentsDep = Annotated[PaymentsState, Depends(state_of(PaymentsState))]
