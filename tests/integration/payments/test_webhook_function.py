"""The webhook function: stored webhooks → the Payment aggregate, first terminal outcome wins,
redeliveries change nothing, unknown payments are dropped, a charge that is not the payment's
(another amount, another key, unknown to the PSP) changes nothing; and through the real bus."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from gamestore.payments.aggregate import Payments
from gamestore.payments.bootstrap import webhook_function_main
from gamestore.payments.domain import (
    AMOUNT_MISMATCH,
    UNKNOWN_CHARGE,
    decide_attempt,
    decide_processing,
    derived_id,
)
from gamestore.payments.events import (
    PaymentAnomalyRecorded,
    PaymentFailed,
    PaymentSucceeded,
    PspWebhookReceived,
)
from gamestore.payments.psp_client import LedgerCharge
from gamestore.payments.webhook_function import WebhookFunction
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import NO_STREAM, NewEvent, RecordedEvent
from gamestore.platform.faults import TransientError
from tests.integration.payments.support import PaymentsApi, charge_body


class Ledger:
    """The PSP's ledger as the webhook function looks charges up in it."""

    def __init__(self) -> None:
        self.charges: dict[str, LedgerCharge] = {}
        self.lookups: list[str] = []
        self.down = False

    def hold(
        self, charge_id: str, for_payment: str, status: str = "succeeded", **fields: Any
    ) -> None:
        values: dict[str, Any] = {
            "id": charge_id, "status": status, "payment_id": for_payment, "amount_cents": 4990,
            "currency": "BRL", "idempotency_key": for_payment,
        } | fields  # fmt: skip
        self.charges[charge_id] = LedgerCharge(**values)

    async def get_charge(self, charge_id: str) -> LedgerCharge | None:
        self.lookups.append(charge_id)
        if self.down:
            raise TransientError("charge lookup: ClientConnectorError")
        return self.charges.get(charge_id)


async def webhook_event(
    api: PaymentsApi,
    payment_id: str,
    kind: str = "charge.succeeded",
    code: str | None = None,
    **data: Any,
) -> RecordedEvent:
    """A ``PspWebhookReceived`` in the store, as the endpoint's outbox puts it."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    body = {
        "webhook_id": webhook_id,
        "type": kind,
        "payment_id": payment_id,
        "charge_id": "ch_async",
        "amount_cents": 4990,
        "currency": "BRL",
    } | data
    if code:
        body["failure_code"] = code
    event = NewEvent(PspWebhookReceived.TYPE, body)
    [recorded] = await api.service.store.append(f"webhook-{webhook_id}", [event], NO_STREAM)
    return recorded


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
def function(api: PaymentsApi, ledger: Ledger) -> WebhookFunction:
    return WebhookFunction(Payments(api.service.store), ledger)


async def processing(api: PaymentsApi, payment_id: str, charge_id: str) -> None:
    """The worker's record of an async charge: the attempt and the charge it answered with."""
    await api.payments.change(
        payment_id,
        lambda p: [
            *decide_attempt(p, 1, "processing", charge_id=charge_id),
            *decide_processing(p, charge_id),
        ],
    )


async def test_a_success_webhook_succeeds_the_payment_once(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    data = await api.ordered()
    ledger.hold("ch_async", data["payment_id"])  # the worker's answer is still on its way
    event = await webhook_event(api, data["payment_id"])
    assert await function.handle(event) == "applied"
    assert await function.handle(event) == "duplicate"  # a redelivery
    results = await asyncio.gather(*(function.handle(event) for _ in range(4)))
    assert set(results) == {"duplicate"}
    stream = await api.stream(data["payment_id"])
    assert [e.type for e in stream] == ["PaymentRequested", PaymentSucceeded.TYPE]
    succeeded = stream[1]
    assert succeeded.event_id == derived_id(
        data["payment_id"], f"webhook:{event.data['webhook_id']}"
    )
    assert succeeded.data["source"] == "webhook" and succeeded.data["charge_id"] == "ch_async"
    assert succeeded.data["order_id"] == data["order_id"]


async def test_a_failure_webhook_fails_it_with_the_code(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    data = await api.ordered()
    ledger.hold("ch_async", data["payment_id"], "failed", failure_code="insufficient_funds")
    event = await webhook_event(api, data["payment_id"], "charge.failed", "insufficient_funds")
    assert await function.handle(event) == "applied"
    payment = await api.payments.get(data["payment_id"])
    assert (payment.status, payment.failure_reason) == ("failed", "insufficient_funds")
    assert (await api.stream(data["payment_id"]))[-1].type == PaymentFailed.TYPE


async def test_a_contradiction_is_an_anomaly_recorded_once(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    data = await api.ordered()
    ledger.hold("ch_async", data["payment_id"])
    await api.conclude(data["payment_id"], succeeded=False, reason="card_declined")
    event = await webhook_event(api, data["payment_id"])
    assert await function.handle(event) == "anomaly"
    await function.handle(event)  # redelivered: the derived id stores nothing new
    stream = await api.stream(data["payment_id"])
    assert [e.type for e in stream] == [
        "PaymentRequested",
        PaymentFailed.TYPE,
        PaymentAnomalyRecorded.TYPE,
    ]
    assert stream[-1].data["kept"] == "failed" and stream[-1].data["ignored"] == "succeeded"
    assert (await api.payments.get(data["payment_id"])).status == "failed"


async def test_the_same_outcome_as_the_worker_changes_nothing(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    data = await api.ordered()
    ledger.hold("ch_async", data["payment_id"])
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
    await processing(api, data["payment_id"], "ch_via_bus")  # no PSP lookup needed
    body = charge_body(data["payment_id"], charge_id="ch_via_bus")
    response = await api.webhook(body, "msg_via_bus")
    assert response.status_code == 204
    stop = asyncio.Event()
    process = asyncio.create_task(webhook_function_main(settings, stop))
    try:
        deadline = time.monotonic() + 15
        while (await api.payments.get(data["payment_id"])).status != "succeeded":
            assert time.monotonic() < deadline, "the webhook was not applied"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await process
    [succeeded] = [
        e for e in await api.stream(data["payment_id"]) if e.type == PaymentSucceeded.TYPE
    ]
    assert succeeded.data["source"] == "webhook"


async def anomaly_only(api: PaymentsApi, payment_id: str, reason: str) -> None:
    """The payment's stream holds the request, maybe the worker's record, and one anomaly with
    ``reason``: it is still waiting, nothing was paid."""
    stream = await api.stream(payment_id)
    assert stream[-1].type == PaymentAnomalyRecorded.TYPE and stream[-1].data["reason"] == reason
    assert PaymentSucceeded.TYPE not in [e.type for e in stream]
    assert (await api.payments.get(payment_id)).status in ("pending", "processing")


async def test_a_signed_webhook_for_another_amount_pays_nothing(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    """The attack: a 0-cent charge made for a 49.90 payment's id, reported by a validly signed
    webhook. It is an anomaly; the order stays unpaid."""
    data = await api.ordered()
    ledger.hold("ch_cheap", data["payment_id"], amount_cents=0)
    event = await webhook_event(api, data["payment_id"], charge_id="ch_cheap", amount_cents=0)
    assert await function.handle(event) == "anomaly"
    assert await function.handle(event) == "anomaly"  # redelivered: stored once
    await anomaly_only(api, data["payment_id"], AMOUNT_MISMATCH)
    assert len(await api.stream(data["payment_id"])) == 2


async def test_a_webhook_that_lies_about_the_amount_is_caught_by_the_ledger(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    data = await api.ordered()
    ledger.hold("ch_cheap", data["payment_id"], amount_cents=1)  # what was really charged
    event = await webhook_event(api, data["payment_id"], charge_id="ch_cheap")  # says 4990
    assert await function.handle(event) == "anomaly"
    await anomaly_only(api, data["payment_id"], AMOUNT_MISMATCH)


@pytest.mark.parametrize(
    "held",
    [
        None,  # the PSP has no such charge
        {"idempotency_key": "not-ours"},  # made for this payment id, but not by us
        {"payment_id": "another-payment"},
        {"status": "failed"},  # the ledger does not say what the webhook says
        {"currency": "USD"},
    ],
)
async def test_a_charge_the_payment_did_not_ask_for_pays_nothing(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger, held: dict[str, Any] | None
) -> None:
    data = await api.ordered()
    if held is not None:
        ledger.hold("ch_x", data["payment_id"], **held)
    event = await webhook_event(api, data["payment_id"], charge_id="ch_x")
    assert await function.handle(event) == "anomaly"
    reason = AMOUNT_MISMATCH if held == {"currency": "USD"} else UNKNOWN_CHARGE
    await anomaly_only(api, data["payment_id"], reason)


async def test_a_charge_the_worker_recorded_needs_no_lookup(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    data = await api.ordered()
    await processing(api, data["payment_id"], "ch_async")
    ledger.down = True  # the PSP could not even be asked
    assert await function.handle(await webhook_event(api, data["payment_id"])) == "applied"
    assert ledger.lookups == []
    assert (await api.payments.get(data["payment_id"])).status == "succeeded"


async def test_another_charge_than_the_recorded_one_pays_nothing(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    data = await api.ordered()
    await processing(api, data["payment_id"], "ch_async")
    event = await webhook_event(api, data["payment_id"], charge_id="ch_other")
    assert await function.handle(event) == "anomaly"
    assert ledger.lookups == ["ch_other"]
    await anomaly_only(api, data["payment_id"], UNKNOWN_CHARGE)


async def test_a_psp_that_cannot_answer_the_lookup_is_an_outage(
    api: PaymentsApi, function: WebhookFunction, ledger: Ledger
) -> None:
    """Not an anomaly: the bus retries the event in place until the PSP answers."""
    data = await api.ordered()
    ledger.hold("ch_async", data["payment_id"])
    event = await webhook_event(api, data["payment_id"])
    ledger.down = True
    with pytest.raises(TransientError):
        await function.handle(event)
    assert len(await api.stream(data["payment_id"])) == 1
    ledger.down = False
    assert await function.handle(event) == "applied"
