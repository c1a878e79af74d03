"""One correlation id follows a purchase through every event, message, PSP call, webhook and log."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.api import Account, eventually
from tests.e2e.saga.support import (
    ASYNC,
    SAGA_TIMEOUT,
    buy,
    events,
    new_game,
    order_reaches,
    wait_for_log,
)
from tests.e2e.stack import Stack

SAGA_EVENTS = {
    "OrderCreated",
    "PaymentRequested",
    "PaymentProcessing",
    "PaymentSucceeded",
    "PurchaseCompleted",
    "OrderCompleted",
    "NotificationSent",
}


async def test_one_correlation_id_follows_the_purchase_everywhere(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    corr = f"trace-{uuid.uuid4().hex[:12]}"
    response = await buy(client, player, game["id"], ASYNC, request_id=corr)
    assert response.status_code == 202, response.text
    assert response.headers["x-request-id"] == corr
    await order_reaches(client, player, response.json()["order_id"], "completed")

    async def whole_journey() -> set[str] | None:
        kinds = {e["type"] for e in await events(client, admin, correlation_id=corr)}
        return kinds if kinds >= SAGA_EVENTS else None

    kinds = await eventually(whole_journey, timeout=SAGA_TIMEOUT, what="every saga event")
    assert "PspWebhookReceived" in kinds, "the webhook lost the correlation id"
    for process in ("gateway", "games", "payments", "payment-worker", "psp", "webhook-function"):
        wait_for_log(stack, process, f"corr={corr}")
    wait_for_log(stack, "notifier", f"corr={corr}")

    trace = stack.cli("trace", corr)
    assert trace.returncode == 0, trace.stderr
    for process in ("gateway", "games", "payments", "payment-worker", "psp", "notifier"):
        assert f" {process} " in trace.stdout, f"{process} missing from the trace:\n{trace.stdout}"
    assert "PurchaseCompleted" in trace.stdout
    logs = "\n".join(p.read_text() for p in stack.log_dir.glob("*.log"))
    assert "pm_card" not in logs, "a payment method reached a log"
