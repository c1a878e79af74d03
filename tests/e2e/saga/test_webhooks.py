"""PSP webhooks through the gateway: authenticated, replay-safe, malformed input refused."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.api import Account, assert_problem, eventually
from tests.e2e.saga.conftest import SECRETS
from tests.e2e.saga.support import (
    DECLINED,
    SAGA_TIMEOUT,
    bought,
    events,
    new_game,
    order_reaches,
    payment_of,
    signed,
)


def charge_succeeded(payment_id: str) -> dict[str, Any]:
    return {
        "type": "charge.succeeded",
        "data": {
            "charge_id": f"ch_{uuid.uuid4().hex[:16]}",
            "payment_id": payment_id,
            "amount_cents": 4990,
            "currency": "BRL",
        },
    }


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/webhooks/psp", content=body, headers=headers)


async def test_a_webhook_signed_with_a_listed_secret_is_accepted(client: httpx.AsyncClient) -> None:
    for secret in (SECRETS["new"], SECRETS["previous"]):  # rotation: both listed
        body, headers = signed(secret, charge_succeeded(str(uuid.uuid4())))
        response = await post(client, body, headers)
        assert response.status_code == 204, response.text


@pytest.mark.parametrize("case", ["missing", "wrong", "retired", "tampered", "garbage"])
async def test_a_bad_signature_is_401(client: httpx.AsyncClient, case: str) -> None:
    payload = charge_succeeded(str(uuid.uuid4()))
    secret = SECRETS["retired"] if case == "retired" else SECRETS["new"]
    body, headers = signed(secret, payload)
    if case == "missing":
        del headers["webhook-signature"]
    elif case == "wrong":
        headers["webhook-signature"] = signed(SECRETS["new"], {"type": "other"})[1][
            "webhook-signature"
        ]
    elif case == "tampered":
        body = body.replace(b"4990", b"1")
    elif case == "garbage":
        headers["webhook-signature"] = "v1 no-comma-here"
    assert_problem(await post(client, body, headers), 401)


@pytest.mark.parametrize("age", [600, -600])
async def test_a_timestamp_more_than_five_minutes_off_is_401(
    client: httpx.AsyncClient, age: int
) -> None:
    body, headers = signed(SECRETS["new"], charge_succeeded(str(uuid.uuid4())), age=age)
    assert_problem(await post(client, body, headers), 401)


@pytest.mark.parametrize(
    "payload",
    [{"type": "charge.succeeded"}, {"type": "nonsense", "data": {}}, ["not", "an", "object"]],
)
async def test_a_signed_but_malformed_webhook_is_400(
    client: httpx.AsyncClient, payload: Any
) -> None:
    body, headers = signed(SECRETS["new"], payload)
    assert_problem(await post(client, body, headers), 400)


async def test_the_same_webhook_twice_has_one_effect(
    client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    """A success webhook for a payment that was declined: the first delivery records ONE anomaly
    (first terminal outcome wins); its duplicate is answered 204 and changes nothing."""
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], DECLINED)
    await order_reaches(client, player, accepted["order_id"], "payment_failed")
    webhook_id = f"msg_{uuid.uuid4().hex}"
    body, headers = signed(
        SECRETS["new"], charge_succeeded(accepted["payment_id"]), webhook_id=webhook_id
    )
    for _ in range(3):
        assert (await post(client, body, headers)).status_code == 204

    stream = f"payment-{accepted['payment_id']}"

    async def anomaly() -> list[dict[str, Any]] | None:
        found = await events(client, admin, stream=stream)
        return [e for e in found if e["type"] == "PaymentAnomalyRecorded"] or None

    recorded = await eventually(anomaly, timeout=SAGA_TIMEOUT, what="the anomaly")
    assert len(await events(client, admin, stream=f"webhook-{webhook_id}")) == 1
    assert len(recorded) == 1 and recorded[0]["data"]["kept"] == "failed"
    payment = await payment_of(client, player, accepted["payment_id"])
    assert payment["status"] == "failed", "a late contradicting webhook changed the outcome"
    order = await client.get(f"/pedidos/{accepted['order_id']}", headers=player.auth)
    assert order.json()["status"] == "payment_failed"
