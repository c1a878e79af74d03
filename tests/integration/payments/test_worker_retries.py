"""PSP failures: a processing error is retried with backoff, then dead-lettered; a PSP that does
not answer at all is waited out (not an attempt) up to the outage budget, then dead-lettered;
an operator's replay of the dead letter re-opens the payment only while its order still waits
for it."""

from __future__ import annotations

import uuid
from itertools import pairwise

import pytest

from gamestore.payments.domain import PROCESSING_ERROR
from gamestore.payments.worker import QUEUE
from tests.integration.payments.test_worker import (
    BASE_DELAY,
    MAX_ATTEMPTS,
    PROCESSING_ERROR_CARD,
    VISA,
    Rig,
    eventually,
    rig,
)

__all__ = ["rig"]  # the fixture, shared with test_worker


async def outage(rig: Rig, seconds: float) -> None:
    response = await rig.psp.post("/v1/_sim/outage", json={"seconds": seconds})
    assert response.status_code == 200


async def dead_lettered(rig: Rig, pid: str, attempts: int = MAX_ATTEMPTS) -> None:
    """Wait until the payment failed with processing_error AND its message is a dead letter
    (after ``attempts`` counted PSP attempts; 0 when the PSP never answered)."""
    payment = await rig.payment(pid, lambda p: p.terminal)
    assert (payment.status, payment.failure_reason) == ("failed", PROCESSING_ERROR)
    assert payment.dead_lettered and payment.attempts == attempts
    (dead,) = await eventually(lambda: rig.queue.dead_letters(QUEUE))
    assert (dead.id, dead.attempts) == (pid, max(attempts, 1))


def short_outage_budget(rig: Rig, seconds: float = 1.0) -> None:
    """How long the worker waits out a PSP that does not answer (20 minutes by default)."""
    rig.settings = rig.settings.model_copy(update={"payment_psp_outage_budget_seconds": seconds})


async def test_a_psp_outage_longer_than_every_retry_is_waited_out(rig: Rig) -> None:
    await outage(rig, 3)  # far longer than MAX_ATTEMPTS tries with BASE_DELAY backoff
    pid = await rig.request(VISA)
    async with rig.worker():
        payment = await rig.payment(pid, lambda p: p.terminal)
        await rig.drained()
    assert payment.status == "succeeded"
    types = [e.type for e in await rig.events(pid)]
    assert types == ["PaymentRequested", "PaymentAttempted", "PaymentSucceeded"]  # one attempt
    assert len(await rig.ledger(pid)) == 1
    assert await rig.queue.dead_letters(QUEUE) == []


async def test_a_psp_down_beyond_the_outage_budget_is_dead_lettered(rig: Rig) -> None:
    short_outage_budget(rig)
    await outage(rig, 600)
    pid = await rig.request(VISA)
    async with rig.worker():
        await dead_lettered(rig, pid, attempts=0)
    types = [e.type for e in await rig.events(pid)]
    assert types == ["PaymentRequested", "PaymentDeadLettered", "PaymentFailed"]
    assert any("psp unavailable beyond the outage budget" in line for line in rig.lines)
    (dead,) = await rig.queue.dead_letters(QUEUE)
    assert dead.error.startswith("transient: the PSP did not answer for ")
    assert "(last: HTTP 503" in dead.error and "PermanentError" not in dead.error


async def test_a_processing_error_is_retried_with_backoff_then_dead_lettered(rig: Rig) -> None:
    pid = await rig.request(PROCESSING_ERROR_CARD)
    async with rig.worker():
        await dead_lettered(rig, pid)
    events = await rig.events(pid)
    types = ["PaymentRequested", *["PaymentAttempted"] * MAX_ATTEMPTS]
    assert [e.type for e in events] == [*types, "PaymentDeadLettered", "PaymentFailed"]
    attempts = events[1 : 1 + MAX_ATTEMPTS]
    assert [(e.data["attempt"], e.data["outcome"]) for e in attempts] == [
        (n, "transient") for n in range(1, MAX_ATTEMPTS + 1)
    ]
    assert all(PROCESSING_ERROR in e.data["error"] for e in attempts)
    gaps = [(b.occurred_at - a.occurred_at).total_seconds() for a, b in pairwise(attempts)]
    assert all(gap >= BASE_DELAY * 2**n / 2 for n, gap in enumerate(gaps)), gaps  # backoff
    assert events[-1].data["reason"] == PROCESSING_ERROR and events[-1].data["source"] == "worker"
    assert events[-2].data["attempts"] == MAX_ATTEMPTS
    (dead,) = await rig.queue.dead_letters(QUEUE)
    assert dead.error == (
        "transient: the PSP answered HTTP 500 (processing_error)"
        f" on each of {MAX_ATTEMPTS} attempts"
    )
    assert events[-2].data["error"] == dead.error  # the event says the same
    assert await rig.ledger(pid) == []  # a processing error is never a charge
    lines = [line for line in rig.lines if f"payment_id={pid}" in line]
    assert [n for n in range(1, MAX_ATTEMPTS + 1) if any(f"attempt={n}" in x for x in lines)] == [
        1, 2, 3,
    ]  # fmt: skip
    assert any("payment dead-lettered" in line for line in lines)


async def test_a_replayed_dead_letter_after_an_outage_charges_once(rig: Rig) -> None:
    short_outage_budget(rig)
    await outage(rig, 600)
    pid = await rig.request(VISA)
    async with rig.worker():
        await dead_lettered(rig, pid, attempts=0)
        assert await rig.ledger(pid) == []
        await outage(rig, 0)  # the PSP heals; an operator replays the dead letter
        assert await rig.queue.replay(pid)
        payment = await rig.payment(pid, lambda p: p.status == "succeeded")
        await rig.drained()
    assert payment.epoch == 1 and payment.failure_reason is None
    types = [e.type for e in await rig.events(pid)]
    assert types[-5:] == [
        "PaymentDeadLettered", "PaymentFailed", "PaymentReopened", "PaymentAttempted",
        "PaymentSucceeded",
    ]  # fmt: skip
    (charge,) = await rig.ledger(pid)
    assert charge["id"] == payment.charge_id
    assert [key for key, _ in rig.psp_keys(pid)] == [f"{pid}:1"]  # a new key: really charged
    assert await rig.queue.dead_letters(QUEUE) == []


@pytest.mark.parametrize("change", ["superseded", "paid"])
async def test_a_replay_for_an_order_no_longer_waiting_charges_nothing(
    rig: Rig, change: str
) -> None:
    short_outage_budget(rig)
    await outage(rig, 600)
    pid = await rig.request(VISA)
    async with rig.worker():
        await dead_lettered(rig, pid, attempts=0)
        await outage(rig, 0)
        if change == "superseded":  # the player started another payment (POST /pagamento)
            await rig.set_order(pid, current_payment_id=str(uuid.uuid4()))
        else:
            await rig.set_order(pid, paid=True)
        assert await rig.queue.replay(pid)
        await rig.drained()
    assert await rig.ledger(pid) == []
    payment = await rig.payment(pid, lambda p: True)
    assert (payment.status, payment.failure_reason) == ("failed", PROCESSING_ERROR)
    assert payment.epoch == 0
    assert "PaymentReopened" not in [e.type for e in await rig.events(pid)]
    assert await rig.queue.dead_letters(QUEUE) == []  # handled (ignored), not dead again
    ignored = "replay of a superseded/paid payment ignored"
    assert any(ignored in line and f"payment_id={pid}" in line for line in rig.lines)


async def test_a_malformed_command_is_dead_lettered_without_a_charge(rig: Rig) -> None:
    await rig.queue.enqueue(QUEUE, {"payment_id": "not-a-uuid"}, message_id="bad-1")
    async with rig.worker():
        (dead,) = await eventually(lambda: rig.queue.dead_letters(QUEUE))
    assert (dead.id, dead.attempts) == ("bad-1", 1) and "valid payment_id" in dead.error
    assert (await rig.psp.get("/v1/charges")).json()["total"] == 0
