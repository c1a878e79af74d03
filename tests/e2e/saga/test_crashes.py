"""SIGKILL in the middle of the saga: nothing lost, nothing doubled, nobody charged twice."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.e2e.api import Account, eventually
from tests.e2e.saga.support import (
    ASYNC,
    SAGA_TIMEOUT,
    VISA,
    bought,
    charges,
    events,
    new_game,
    notifications,
    order_reaches,
    psp_control,
)
from tests.e2e.stack import Stack


async def test_a_worker_killed_after_the_charge_and_before_the_ack_charges_once(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    """The PSP answers slowly; the worker is killed while it waits for the answer, after the
    PSP took the charge. The restarted worker retries with the same idempotency key and gets the
    same charge back."""
    game = await new_game(client, admin)
    await psp_control(stack, "/v1/_sim/latency", {"ms": 3000})
    try:
        accepted = await bought(client, player, game["id"], VISA)
        payment_id = accepted["payment_id"]

        async def charged() -> list[object] | None:
            return list(await charges(stack, payment_id)) or None

        await eventually(charged, timeout=SAGA_TIMEOUT, what="the PSP's charge")
        stack.kill("payment-worker")  # the worker is still waiting for the PSP's answer
    finally:
        await psp_control(stack, "/v1/_sim/latency", {"ms": 0})
    await asyncio.sleep(0.5)
    stack.restart("payment-worker")
    await order_reaches(client, player, accepted["order_id"], "completed")
    assert len(await charges(stack, payment_id)) == 1, "the PSP charged twice"
    stream = await events(client, admin, stream=f"payment-{payment_id}")
    assert [e["type"] for e in stream].count("PaymentSucceeded") == 1


async def test_killing_the_webhook_function_and_the_notifier_mid_stream_loses_nothing(
    client: httpx.AsyncClient, admin: Account, stack: Stack
) -> None:
    players = [await _player(client) for _ in range(6)]
    games = [await new_game(client, admin) for _ in range(2)]
    accepted = [
        (player, await bought(client, player, game["id"], ASYNC if i % 2 else VISA))
        for player in players
        for i, game in enumerate(games)
    ]
    await asyncio.sleep(0.3)
    stack.kill("webhook-function")
    stack.kill("notifier")
    await asyncio.sleep(1.0)
    stack.restart("webhook-function")
    stack.restart("notifier")
    for player, purchase in accepted:
        await order_reaches(client, player, purchase["order_id"], "completed")
    titles = {game["title"] for game in games}
    for player, _ in accepted[::2]:

        async def both_notified(player: Account = player) -> bool:
            texts = [n["message"] for n in await notifications(client, player)]
            return all(any(t in text for text in texts) for t in titles)

        await eventually(both_notified, timeout=SAGA_TIMEOUT, what="purchase notifications")
        texts = [n["message"] for n in await notifications(client, player)]
        counts = Counter(t for t in titles for text in texts if t in text)
        assert set(counts.values()) == {1}, f"doubled notification: {counts}"
    payment_ids = {purchase["payment_id"] for _, purchase in accepted}
    succeeded = await events(client, admin, type="PaymentSucceeded")
    per_payment = Counter(
        e["data"]["payment_id"] for e in succeeded if e["data"]["payment_id"] in payment_ids
    )
    assert per_payment == dict.fromkeys(payment_ids, 1)


async def _player(client: httpx.AsyncClient) -> Account:
    from tests.e2e.api import new_account

    return await new_account(client, name="Crash Tester")
