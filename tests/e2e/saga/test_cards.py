"""Each test card end to end, through the gateway, on the real processes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.api import Account, eventually
from tests.e2e.saga.conftest import MAX_ATTEMPTS
from tests.e2e.saga.support import (
    ASYNC,
    DECLINED,
    INSUFFICIENT,
    PROCESSING_ERROR,
    SAGA_TIMEOUT,
    VISA,
    bought,
    charges,
    events,
    library_ids,
    new_game,
    notifications,
    order_reaches,
    payment_of,
    psp_control,
)
from tests.e2e.stack import Stack


async def test_visa_completes_grants_the_game_and_notifies(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], VISA)
    order = await order_reaches(client, player, accepted["order_id"], "completed")
    assert order["payment_id"] == accepted["payment_id"]
    assert order["amount_cents"] == game["price_cents"]
    assert game["id"] in await library_ids(client, player)
    payment = await payment_of(client, player, accepted["payment_id"])
    assert payment["status"] == "succeeded" and payment["failure_reason"] is None
    assert payment["history"][0]["type"] == "PaymentRequested"
    assert len(await charges(stack, accepted["payment_id"])) == 1

    async def notified() -> list[str] | None:
        texts = [n["message"] for n in await notifications(client, player)]
        return [t for t in texts if game["title"] in t] or None

    assert "biblioteca" in (await eventually(notified, timeout=SAGA_TIMEOUT))[0]


@pytest.mark.parametrize(
    ("card", "reason"),
    [(DECLINED, "card_declined"), (INSUFFICIENT, "insufficient_funds")],
)
async def test_a_declined_card_fails_with_its_reason_then_a_retry_with_visa_completes(
    client: httpx.AsyncClient, admin: Account, player: Account, card: str, reason: str
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], card)
    failed = await order_reaches(client, player, accepted["order_id"], "payment_failed")
    first = await payment_of(client, player, accepted["payment_id"])
    assert (first["status"], first["failure_reason"]) == ("failed", reason)
    assert game["id"] not in await library_ids(client, player)

    retry = await client.post(
        "/pagamento",
        json={"order_id": failed["id"], "payment_method": VISA},
        headers=player.auth,
    )
    assert retry.status_code == 202, retry.text
    assert retry.json()["status"] == "pending"
    assert retry.json()["payment_id"] != accepted["payment_id"]
    await order_reaches(client, player, accepted["order_id"], "completed")
    assert game["id"] in await library_ids(client, player)


async def test_a_processing_error_is_dead_lettered_after_n_attempts_and_replayable(
    client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], PROCESSING_ERROR)
    await order_reaches(client, player, accepted["order_id"], "payment_failed")
    payment = await payment_of(client, player, accepted["payment_id"])
    assert (payment["status"], payment["failure_reason"]) == ("failed", "processing_error")
    assert payment["attempts"] == MAX_ATTEMPTS
    assert "PaymentDeadLettered" in [h["type"] for h in payment["history"]]
    letter = await _dead_letter_of(client, admin, accepted["payment_id"])
    assert letter["attempts"] == MAX_ATTEMPTS and letter["error"]

    replay = await client.post(f"/admin/dlq/{letter['id']}/replay", headers=admin.auth)
    assert replay.status_code == 202, replay.text

    async def attempted_again() -> dict[str, object] | None:
        again = await payment_of(client, player, accepted["payment_id"])
        return again if "PaymentReopened" in [h["type"] for h in again["history"]] else None

    await eventually(attempted_again, timeout=SAGA_TIMEOUT, what="the replay re-opened it")
    # the card fails on every try: after N more attempts it is a dead letter again
    again = await _dead_letter_of(client, admin, accepted["payment_id"])
    assert str(again["error"]).startswith(
        "transient: the PSP answered HTTP 500 (processing_error) on each of"
    ), again["error"]
    await _told_once_that_the_payment_failed(client, admin, player, accepted["payment_id"], game)
    delete = await client.delete(f"/admin/dlq/{letter['id']}", headers=admin.auth)
    assert delete.status_code in (204, 404), delete.text


async def _told_once_that_the_payment_failed(
    client: httpx.AsyncClient,
    admin: Account,
    player: Account,
    payment_id: str,
    game: dict[str, Any],
) -> None:
    """Two ``PaymentFailed`` (the first run and the replay), one notification: proven by a
    later purchase's notification, which the notifier can only write after both failures."""

    async def failed_twice() -> list[dict[str, Any]] | None:
        found = await events(client, admin, stream=f"payment-{payment_id}", type="PaymentFailed")
        return found if len(found) == 2 else None

    await eventually(failed_twice, timeout=SAGA_TIMEOUT, what="the replay's PaymentFailed")
    later = await new_game(client, admin)
    accepted = await bought(client, player, later["id"], VISA)
    await order_reaches(client, player, accepted["order_id"], "completed")

    async def later_notified() -> list[str] | None:
        texts = [n["message"] for n in await notifications(client, player)]
        return texts if any(later["title"] in t for t in texts) else None

    texts = await eventually(later_notified, timeout=SAGA_TIMEOUT, what="the later notification")
    assert len([t for t in texts if game["title"] in t and "Pagamento recusado" in t]) == 1, texts


async def test_an_outage_beyond_the_budget_dead_letters_and_a_replay_after_healing_completes(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    await psp_control(stack, "/v1/_sim/outage", {"seconds": 600})
    try:
        accepted = await bought(client, player, game["id"], VISA)
        letter = await _dead_letter_of(client, admin, accepted["payment_id"])
    finally:
        await psp_control(stack, "/v1/_sim/outage", {"seconds": 0})
    await order_reaches(client, player, accepted["order_id"], "payment_failed")
    replay = await client.post(f"/admin/dlq/{letter['id']}/replay", headers=admin.auth)
    assert replay.status_code == 202, replay.text
    await order_reaches(client, player, accepted["order_id"], "completed")
    assert game["id"] in await library_ids(client, player)
    assert len([c for c in await charges(stack, accepted["payment_id"])]) == 1
    listed = await client.get("/admin/dlq", headers=admin.auth)
    assert letter["id"] not in [item["id"] for item in listed.json()["items"]]


async def test_an_async_card_completes_by_webhook_alone(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], ASYNC)
    await order_reaches(client, player, accepted["order_id"], "completed")
    payment = await payment_of(client, player, accepted["payment_id"])
    kinds = [h["type"] for h in payment["history"]]
    assert "PaymentProcessing" in kinds, kinds
    stream = await events(client, admin, stream=f"payment-{accepted['payment_id']}")
    succeeded = [e for e in stream if e["type"] == "PaymentSucceeded"]
    assert [e["data"]["source"] for e in succeeded] == ["webhook"]
    assert len(await charges(stack, accepted["payment_id"])) == 1


async def _dead_letter_of(
    client: httpx.AsyncClient, admin: Account, payment_id: str
) -> dict[str, object]:
    async def probe() -> dict[str, object] | None:
        response = await client.get("/admin/dlq", headers=admin.auth)
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            if item["message"].get("payment_id") == payment_id:
                return dict(item)
        return None

    return await eventually(probe, timeout=SAGA_TIMEOUT, what=f"a dead letter of {payment_id}")
