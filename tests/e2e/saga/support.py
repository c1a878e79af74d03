"""Helpers for the purchase saga's end-to-end tests: buying, waiting, counting, signing."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from typing import Any

import httpx
from standardwebhooks import Webhook

from tests.e2e.api import Account, eventually
from tests.e2e.stack import Stack

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
INSUFFICIENT = "pm_card_chargeDeclinedInsufficientFunds"
PROCESSING_ERROR = "pm_card_chargeDeclinedProcessingError"
ASYNC = "pm_card_async"
SAGA_TIMEOUT = 30.0  # generous: a loaded 2-core CI box runs 10 processes here


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def game_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": f"Saga Quest {uuid.uuid4().hex[:10]}",
        "description": "A game bought in end-to-end tests.",
        "genres": ["RPG"],
        "platforms": ["PC"],
        "price_cents": 4990,
        "currency": "BRL",
        "release_date": "2024-05-01",
        "developer": "Test Studio",
        "publisher": "Test Publisher",
        "tags": ["e2e"],
    }
    return body | overrides


async def new_game(client: httpx.AsyncClient, admin: Account, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/jogos", json=game_body(**overrides), headers=admin.auth)
    assert response.status_code == 201, response.text
    game: dict[str, Any] = response.json()
    return game


async def buy(
    client: httpx.AsyncClient,
    player: Account,
    game_id: str,
    method: str = VISA,
    *,
    key: str | None = None,
    request_id: str | None = None,
) -> httpx.Response:
    headers = dict(player.auth)
    if key:
        headers["Idempotency-Key"] = key
    if request_id:
        headers["X-Request-ID"] = request_id
    body = {"game_id": game_id, "payment_method": method}
    return await client.post("/jogos/compra", json=body, headers=headers)


async def bought(
    client: httpx.AsyncClient, player: Account, game_id: str, method: str = VISA
) -> dict[str, Any]:
    """A purchase that was accepted (202); its body."""
    response = await buy(client, player, game_id, method)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    assert accepted["status"] == "pending_payment", accepted
    return accepted


async def order_reaches(
    client: httpx.AsyncClient, player: Account, order_id: str, status: str
) -> dict[str, Any]:
    """Poll ``GET /pedidos/{id}`` until the order has ``status``; the order."""

    async def probe() -> dict[str, Any] | None:
        response = await client.get(f"/pedidos/{order_id}", headers=player.auth)
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order if order["status"] == status else None

    return await eventually(probe, timeout=SAGA_TIMEOUT, what=f"order {order_id} {status}")


async def payment_of(client: httpx.AsyncClient, who: Account, payment_id: str) -> dict[str, Any]:
    response = await client.get(f"/pagamento/{payment_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = response.json()
    return payment


async def library_ids(client: httpx.AsyncClient, player: Account) -> list[str]:
    response = await client.get("/biblioteca", headers=player.auth)
    assert response.status_code == 200, response.text
    return [item["game_id"] for item in response.json()["items"]]


async def notifications(client: httpx.AsyncClient, player: Account) -> list[dict[str, Any]]:
    response = await client.get("/notificacoes?size=100", headers=player.auth)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def charges(stack: Stack, payment_id: str) -> list[dict[str, Any]]:
    """The PSP ledger's charges for one payment (what the outside company really charged)."""
    async with httpx.AsyncClient(base_url=stack.psp_url, headers=stack.psp_auth, timeout=10) as psp:
        response = await psp.get("/v1/charges", params={"payment_id": payment_id})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def psp_control(stack: Stack, path: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=stack.psp_url, headers=stack.psp_auth, timeout=10) as psp:
        response = await psp.post(path, json=body)
    assert response.status_code < 300, response.text


async def events(client: httpx.AsyncClient, admin: Account, **filters: str) -> list[dict[str, Any]]:
    """Every event of the store matching ``filters`` (stream, type, correlation_id)."""
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        params = {"after": str(after), "limit": "1000", **filters}
        response = await client.get("/admin/events", params=params, headers=admin.auth)
        assert response.status_code == 200, response.text
        page = response.json()["items"]
        if not page:
            return found
        found += page
        after = page[-1]["position"]


def signed(
    secret: str, body: dict[str, Any], *, webhook_id: str | None = None, age: float = 0
) -> tuple[bytes, dict[str, str]]:
    """A webhook body and its Standard Webhooks headers, signed with ``secret``."""
    from datetime import UTC, datetime, timedelta

    raw = json.dumps(body, separators=(",", ":"))
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = datetime.now(UTC) - timedelta(seconds=age)
    signature = Webhook(secret).sign(msg_id, at, raw)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return raw.encode(), headers


def wait_for_log(stack: Stack, process: str, needle: str, timeout: float = SAGA_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while needle not in stack.log_text(process):
        if time.monotonic() > deadline:
            raise AssertionError(f"{process}.log never showed {needle!r}\n{stack.tails()}")
        time.sleep(0.05)
