"""The events payments publishes: the Payment stream (``payment-{id}``) and received webhooks.

Consumers (the saga, the notifier, the projection) import these contracts instead of retyping
type strings. Each payload is exactly what the event carried before it had a contract
(docs/adr/008, CONTRACT.md): a key that was left out when it had no value (an attempt's
``error`` or ``charge_id``, a webhook's ``failure_code``) is still left out, while a key that was
always written (an outcome's ``charge_id``, even when null) still is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gamestore.platform.events import Event


class _PaymentEvent(Event):
    """A contract whose ``OMITTED_WHEN_NONE`` keys are left out of the payload when None."""

    OMITTED_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()

    def payload(self) -> dict[str, Any]:
        data = super().payload()
        return {k: v for k, v in data.items() if not (v is None and k in self.OMITTED_WHEN_NONE)}


class PaymentRequested(_PaymentEvent):
    """A payment of an order was asked for (the first one from ``OrderCreated``, a retry from
    ``POST /pagamento``): the worker charges it."""

    TYPE = "PaymentRequested"
    STREAM = "payment-{payment_id}"
    payment_id: str
    order_id: str
    user_id: str
    game_id: str
    game_title: str = ""
    amount_cents: int
    currency: str
    payment_method: str


class PaymentAttempted(_PaymentEvent):
    """One PSP call and how it went (``succeeded``, ``declined``, ``processing``,
    ``transient``), with the charge the PSP answered with."""

    TYPE = "PaymentAttempted"
    STREAM = "payment-{payment_id}"
    OMITTED_WHEN_NONE = frozenset({"error", "charge_id"})
    payment_id: str
    attempt: int
    outcome: str
    error: str | None = None
    charge_id: str | None = None


class PaymentProcessing(_PaymentEvent):
    """The PSP accepted the charge and answers later by webhook."""

    TYPE = "PaymentProcessing"
    STREAM = "payment-{payment_id}"
    payment_id: str
    charge_id: str


class _PaymentOutcome(_PaymentEvent):
    """The ids and amounts every outcome carries (ADR 008), and where it came from."""

    payment_id: str
    order_id: str
    user_id: str
    game_id: str
    game_title: str
    amount_cents: int
    currency: str
    charge_id: str | None
    source: str


class PaymentSucceeded(_PaymentOutcome):
    """The payment's terminal success (the first terminal outcome wins)."""

    TYPE = "PaymentSucceeded"
    STREAM = "payment-{payment_id}"


class PaymentFailed(_PaymentOutcome):
    """The payment's terminal failure, with the PSP's failure code or ``processing_error``."""

    TYPE = "PaymentFailed"
    STREAM = "payment-{payment_id}"
    reason: str | None


class PaymentDeadLettered(_PaymentEvent):
    """The worker gave up on the payment's command; an operator may replay it."""

    TYPE = "PaymentDeadLettered"
    STREAM = "payment-{payment_id}"
    payment_id: str
    order_id: str
    attempts: int
    error: str


class PaymentReopened(_PaymentEvent):
    """An operator replayed the dead letter: the payment is charged again, under a new key."""

    TYPE = "PaymentReopened"
    STREAM = "payment-{payment_id}"
    payment_id: str
    order_id: str


class PaymentAnomalyRecorded(_PaymentEvent):
    """An outcome that contradicts the kept one, or is about a charge the payment did not ask
    for: recorded, and it changes nothing."""

    TYPE = "PaymentAnomalyRecorded"
    STREAM = "payment-{payment_id}"
    payment_id: str
    kept: str
    ignored: str
    source: str
    reason: str
    charge_id: str | None


class PspWebhookReceived(_PaymentEvent):
    """A verified PSP webhook, stored once by its ``webhook-id``; the webhook function applies
    it to its payment."""

    TYPE = "PspWebhookReceived"
    STREAM = "webhook-{webhook_id}"
    OMITTED_WHEN_NONE = frozenset({"failure_code"})
    webhook_id: str
    type: str
    payment_id: str
    charge_id: str
    amount_cents: int
    currency: str
    failure_code: str | None = None


PAYMENT_EVENTS: tuple[type[_PaymentEvent], ...] = (
    PaymentRequested,
    PaymentAttempted,
    PaymentProcessing,
    PaymentSucceeded,
    PaymentFailed,
    PaymentDeadLettered,
    PaymentAnomalyRecorded,
    PaymentReopened,
)
"""Every event of the Payment stream, in the order the bootstrap subscribes them."""
