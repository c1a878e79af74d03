"""The webhook function: stored webhooks → the Payment aggregate, first terminal outcome wins,
redeliveries change nothing, unknown payments are dropped; and through the real bus."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from gamestore.payments.aggregate import Payments
from gamestore.payments.domain import (
    PAYMENT_ANOMALY,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
    derived_id,
)
from gamestore.payments.webhook_function import WebhookFunction, main
from gamestore.payments.webhooks import PSP_WEBHOOK_RECEIVED
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import NO_STREAM, NewEvent, RecordedEvent
from tests.integration.payments.support import PaymentsApi, charge_body


async def webhook_event(
    api: PaymentsApi, payment_id: str, kind: str = "charge.succeeded", code: str | None = None
) -> RecordedEvent:
    """A ``PspWebhookReceived`` in the store, as the endpoint's outbox puts it."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    data = {
        "webhook_id": webhook_id,
        "type": kind,
        "payment_id": payment_id,
        "charge_id": "ch_async",
        "amount_cents": 4990,
        "currency": "BRL",
    }
    if code:
        data["failure_code"] = code
    event = NewEvent(PSP_WEBHOOK_RECEIVED, data)
    [recorded] = await api.service.store.append(f"webhook-{webhook_id}", [event], NO_STREAM)
    return recorded


@pytest.fixture
def function(api: PaymentsApi) -> WebhookFunction:
    return WebhookFunction(Payments(api.service.store))


async def test_a_success_webhook_succeeds_the_payment_once(
    api: PaymentsApi, function: WebhookFunction
) -> None:
    data = await api.ordered()
    event = await webhook_event(api, data["payment_id"])
    assert await function.handle(event) == "applied"
    assert await function.handle(event) == "duplicate"  # a redelivery
    results = await asyncio.gather(*(function.handle(event) for _ in range(4)))
    assert set(results) == {"duplicate"}
    stream = await api.stream(data["payment_id"])
    assert [e.type for e in stream] == ["PaymentRequested", PAYMENT_SUCCEEDED]
    succeeded = stream[1]
    assert succeeded.event_id == derived_id(
        data["payment_id"], f"webhook:{event.data['webhook_id']}"
    )
    assert succeeded.data["source"] == "webhook" and succeeded.data["charge_id"] == "ch_async"
    assert succeeded.data["order_id"] == data["order_id"]


async def test_a_failure_webhook_fails_it_with_the_code(
    api: PaymentsApi, function: WebhookFunction
) -> None:
    data = await api.ordered()
    event = await webhook_event(api, data["payment_id"], "charge.failed", "insufficient_funds")
    assert await function.handle(event) == "applied"
    payment = await api.payments.get(data["payment_id"])
    assert (payment.status, payment.failure_reason) == ("failed", "insufficient_funds")
    assert (await api.stream(data["payment_id"]))[-1].type == PAYMENT_FAILED


async def test_a_contradiction_is_an_anomaly_recorded_once(
    api: PaymentsApi, function: WebhookFunction
) -> None:
    data = await api.ordered()
    await api.conclude(data["payment_id"], succeeded=False, reason="card_declined")
    event = await webhook_event(api, data["payment_id"])
    assert await function.handle(event) == "anomaly"
    await function.handle(event)  # redelivered: the derived id stores nothing new
    stream = await api.stream(data["payment_id"])
    assert [e.type for e in stream] == ["PaymentRequested", PAYMENT_FAILED, PAYMENT_ANOMALY]
    assert stream[-1].data["kept"] == "failed" and stream[-1].data["ignored"] == "succeeded"
    assert (await api.payments.get(data["payment_id"])).status == "failed"


async def test_the_same_outcome_as_the_worker_changes_nothing(
    api: PaymentsApi, function: WebhookFunction
) -> None:
    data = await api.ordered()
    await api.conclude(data["payment_id"], succeeded=True)
    assert await function.handle(await webhook_event(api, data["payment_id"])) == "duplicate"
    assert len(await api.stream(data["payment_id"])) == 2


async def test_an_unknown_payment_is_dropped(api: PaymentsApi, function: WebhookFunction) -> None:
    event = await webhook_event(api, str(uuid.uuid4()))
    assert await function.handle(event) == "unknown payment"
    assert await function.handle(await webhook_event(api, "not-a-uuid")) == "unknown payment"


async def test_the_process_applies_endpoint_webhooks_through_the_bus(
    api: PaymentsApi, settings: Settings, tmp_path: Path
) -> None:
    """The endpoint stores the webhook; the webhook-function process (its ``main``) applies it
    and writes its TXT log line."""
    data = await api.ordered()
    response = await api.webhook(charge_body(data["payment_id"]), "msg_via_bus")
    assert response.status_code == 204
    stop = asyncio.Event()
    process = asyncio.create_task(main(settings, stop))
    try:
        deadline = time.monotonic() + 15
        while (await api.payments.get(data["payment_id"])).status != "succeeded":
            assert time.monotonic() < deadline, "the webhook was not applied"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await process
    [succeeded] = [e for e in await api.stream(data["payment_id"]) if e.type == PAYMENT_SUCCEEDED]
    assert succeeded.data["source"] == "webhook"
