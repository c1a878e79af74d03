"""The webhook-function process SIGKILLed mid-stream loses nothing and applies nothing twice:
the bus delivers again from its checkpoint and the derived event ids absorb the repeats."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from gamestore.payments.aggregate import Payments
from gamestore.payments.domain import (
    decide_attempt,
    decide_processing,
    fold,
    requested,
    stream_of,
)
from gamestore.payments.events import PaymentSucceeded, PspWebhookReceived
from gamestore.platform.config import sqlite_url
from gamestore.platform.eventstore import NO_STREAM, EventStore, NewEvent, connect

WEBHOOKS = 80
CHILD = (
    "import asyncio;"
    "from gamestore.platform.config import Settings;"
    "from gamestore.payments.bootstrap import webhook_function_main;"
    "asyncio.run(webhook_function_main(Settings(), asyncio.Event()))"
)


async def _payment_with_webhook(store: EventStore) -> str:
    payment_id = str(uuid.uuid4())
    data = {
        "payment_id": payment_id,
        "order_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "game_id": str(uuid.uuid4()),
        "game_title": "Celeste",
        "amount_cents": 4990,
        "currency": "BRL",
        "payment_method": "pm_card_async",
    }
    [first] = await store.append(stream_of(payment_id), [requested(data)], NO_STREAM)
    charge_id = f"ch_{uuid.uuid4().hex[:12]}"
    payment = fold([first])
    assert payment is not None  # the worker's record of the async charge the webhook settles
    answered = [*decide_attempt(payment, 1, "processing", charge_id=charge_id)]
    answered += decide_processing(payment, charge_id)
    await store.append(stream_of(payment_id), answered, 1)
    webhook_id = f"msg_{uuid.uuid4().hex}"
    hook: dict[str, object] = {"webhook_id": webhook_id, "type": "charge.succeeded"}
    hook |= {"payment_id": payment_id, "charge_id": charge_id, "amount_cents": 4990}
    hook |= {"currency": "BRL"}
    event = NewEvent(PspWebhookReceived.TYPE, hook)
    await store.append(f"webhook-{webhook_id}", [event], NO_STREAM)
    return payment_id


def _start(tmp_path: Path, events_url: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "GAMESTORE_DATA_DIR": str(tmp_path / "data"),
        "GAMESTORE_LOG_DIR": str(tmp_path / "logs"),
        "GAMESTORE_EVENTSTORE_URL": events_url,
        "GAMESTORE_BUS_URL": "embedded",
    }
    return subprocess.Popen([sys.executable, "-c", CHILD], env=env)


async def _succeeded(store: EventStore) -> int:
    """How many payments have succeeded (each may only once)."""
    return len(await store.read_all(0, 10_000, types=[PaymentSucceeded.TYPE]))


async def _wait_for(store: EventStore, count: int) -> int:
    deadline = time.monotonic() + 30  # a restarted member waits out the killed one's lease
    while (done := await _succeeded(store)) < count:
        assert time.monotonic() < deadline, f"only {done} of {count} webhooks applied"
        await asyncio.sleep(0.01)
    return done


async def test_a_killed_webhook_function_resumes_without_loss_or_duplicates(
    tmp_path: Path,
) -> None:
    events_url = sqlite_url(tmp_path / "events.db")
    store = await connect(events_url)
    try:
        payment_ids = [await _payment_with_webhook(store) for _ in range(WEBHOOKS)]
        child = _start(tmp_path, events_url)
        try:
            await _wait_for(store, 3)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        killed_at = await _succeeded(store)
        assert killed_at < WEBHOOKS, "killed too late to prove much"
        child = _start(tmp_path, events_url)
        try:
            await _wait_for(store, WEBHOOKS)
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(10)
        payments = Payments(store)
        for payment_id in payment_ids:
            stream = await store.read_stream(stream_of(payment_id))
            assert [e.type for e in stream] == [
                "PaymentRequested", "PaymentAttempted", "PaymentProcessing", PaymentSucceeded.TYPE,
            ]  # fmt: skip
            assert (await payments.get(payment_id)).status == "succeeded"
    finally:
        await store.close()
