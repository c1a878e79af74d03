"""POST /jogos/compra and GET /pedidos: the order, its OrderCreated, refusals, who sees what."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from gamestore.games.bootstrap import GamesService
from gamestore.games.tables import orders
from gamestore.platform.eventstore import RecordedEvent
from tests.integration.games.support import GamesApi, problem

DEADLINE = 10.0


def buyer(api: GamesApi, user_id: str | None = None) -> dict[str, str]:
    return api.issuer.headers("player", user_id or str(uuid.uuid4()))


async def buy(
    api: GamesApi,
    game_id: str,
    headers: dict[str, str],
    method: str = "pm_card_visa",
    key: str | None = None,
) -> httpx.Response:
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    body = {"game_id": game_id, "payment_method": method}
    return await api.client.post("/jogos/compra", json=body, headers=headers)


async def order_stream(service: GamesService, order_id: str, count: int) -> list[RecordedEvent]:
    deadline = time.monotonic() + DEADLINE
    while True:
        events = await service.store.read_stream(f"order-{order_id}")
        if len(events) >= count or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.02)


async def order_rows(service: GamesService) -> int:
    async with service.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(orders))).scalar() or 0)


async def test_a_purchase_creates_a_pending_order_and_its_event(api: GamesApi) -> None:
    game = await api.create("Hades", price_cents=7399)
    user = str(uuid.uuid4())
    headers = {**buyer(api, user), "X-Request-ID": "buy-hades-1"}
    response = await buy(api, game["id"], headers)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"order_id", "payment_id", "status"}
    assert accepted["status"] == "pending_payment"
    assert response.headers["location"] == f"/pedidos/{accepted['order_id']}"

    order = (await api.client.get(f"/pedidos/{accepted['order_id']}", headers=headers)).json()
    assert order["user_id"] == user and order["game_id"] == game["id"]
    assert (order["status"], order["payment_id"]) == ("pending_payment", accepted["payment_id"])
    assert (order["amount_cents"], order["currency"], order["game_title"]) == (7399, "BRL", "Hades")
    assert order["failure_reason"] is None

    [event] = await order_stream(api.service, accepted["order_id"], 1)
    assert (event.type, event.version, event.correlation_id) == ("OrderCreated", 1, "buy-hades-1")
    assert event.data == {
        "order_id": accepted["order_id"],
        "user_id": user,
        "game_id": game["id"],
        "game_title": "Hades",
        "amount_cents": 7399,
        "currency": "BRL",
        "payment_id": accepted["payment_id"],
        "payment_method": "pm_card_visa",
    }


async def test_an_unknown_payment_method_is_422_before_anything_is_stored(api: GamesApi) -> None:
    game = await api.create()
    for method in ("pm_card_mastercard", "4242424242424242", "", None):
        body: dict[str, Any] = {"game_id": game["id"], "payment_method": method}
        response = await api.client.post("/jogos/compra", json=body, headers=buyer(api))
        problem(response, 422)
    for body in ({"game_id": game["id"]}, {"payment_method": "pm_card_visa"}, [], {"x": 1}):
        problem(await api.client.post("/jogos/compra", json=body, headers=buyer(api)), 422)
    assert await order_rows(api.service) == 0


async def test_unknown_malformed_or_delisted_games_are_404(api: GamesApi) -> None:
    game = await api.create()
    assert (await api.client.delete(f"/jogos/{game['id']}", headers=api.admin)).status_code == 204
    for game_id in (game["id"], str(uuid.uuid4()), "not-a-uuid"):
        problem(await buy(api, game_id, buyer(api)), 404)
    assert await order_rows(api.service) == 0


async def test_an_owned_game_is_409(api: GamesApi) -> None:
    game = await api.create()
    user = str(uuid.uuid4())
    await api.service.libraries.grant(user, game["id"], str(uuid.uuid4()), datetime.now(UTC))
    body = problem(await buy(api, game["id"], buyer(api, user)), 409)
    assert body["code"] == "already_owned" and "biblioteca" in body["detail"]  # pt-BR default
    assert await order_rows(api.service) == 0


async def test_an_open_purchase_is_409_with_its_order_id(api: GamesApi) -> None:
    game, other_game = await api.create(), await api.create()
    headers = buyer(api)
    first = (await buy(api, game["id"], headers)).json()
    again = problem(await buy(api, game["id"], headers, "pm_card_chargeDeclined"), 409)
    assert again["order_id"] == first["order_id"]
    assert (await buy(api, other_game["id"], headers)).status_code == 202
    assert (await buy(api, game["id"], buyer(api))).status_code == 202  # another player
    assert await order_rows(api.service) == 3


async def test_purchases_need_a_players_token(api: GamesApi) -> None:
    game = await api.create()
    body = {"game_id": game["id"], "payment_method": "pm_card_visa"}
    anonymous = await api.client.post("/jogos/compra", json=body)
    assert problem(anonymous, 401) and anonymous.headers["www-authenticate"]
    expired = {"Authorization": f"Bearer {api.issuer.token('player', ttl=-120)}"}
    problem(await api.client.post("/jogos/compra", json=body, headers=expired), 401)
    problem(await api.client.get("/pedidos"), 401)
    problem(await api.client.get(f"/pedidos/{uuid.uuid4()}"), 401)


async def test_orders_are_seen_by_their_owner_and_admins_only(api: GamesApi) -> None:
    owner, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    game = await api.create()
    order_id = (await buy(api, game["id"], buyer(api, owner))).json()["order_id"]
    path = f"/pedidos/{order_id}"
    assert (await api.client.get(path, headers=buyer(api, owner))).status_code == 200
    assert (await api.client.get(path, headers=api.admin)).status_code == 200
    problem(await api.client.get(path, headers=buyer(api, stranger)), 404)
    problem(await api.client.get(f"/pedidos/{uuid.uuid4()}", headers=buyer(api, owner)), 404)
    problem(await api.client.get("/pedidos/not-an-id", headers=buyer(api, owner)), 404)
    theirs = await api.client.get("/pedidos", headers=buyer(api, stranger))
    assert theirs.json() == {"items": [], "total": 0, "page": 1, "size": 20}
    query = {"user_id": owner}
    problem(await api.client.get("/pedidos", params=query, headers=buyer(api, stranger)), 403)
    admin_view = await api.client.get("/pedidos", params=query, headers=api.admin)
    assert [o["id"] for o in admin_view.json()["items"]] == [order_id]


async def test_the_order_list_is_paginated_newest_first(api: GamesApi) -> None:
    user = str(uuid.uuid4())
    headers = buyer(api, user)
    placed = []
    for _ in range(3):
        game = await api.create()
        placed.append((await buy(api, game["id"], headers)).json()["order_id"])
    first = (await api.client.get("/pedidos?size=2", headers=headers)).json()
    second = (await api.client.get("/pedidos?size=2&page=2", headers=headers)).json()
    assert (first["total"], first["page"], first["size"]) == (3, 1, 2)
    assert [o["id"] for o in first["items"] + second["items"]] == placed[::-1]
    assert {o["user_id"] for o in first["items"]} == {user}
    problem(await api.client.get("/pedidos?size=101", headers=headers), 422)
    problem(await api.client.get("/pedidos?page=0", headers=headers), 422)


async def test_an_idempotent_retry_replays_the_same_order(api: GamesApi) -> None:
    game = await api.create()
    headers = buyer(api)
    first = await buy(api, game["id"], headers, key="retry-1")
    again = await buy(api, game["id"], headers, key="retry-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await order_rows(api.service) == 1
    assert len(await order_stream(api.service, first.json()["order_id"], 1)) == 1


async def test_the_same_key_with_another_body_is_422(api: GamesApi) -> None:
    game = await api.create()
    headers = buyer(api)
    assert (await buy(api, game["id"], headers, key="k")).status_code == 202
    problem(await buy(api, game["id"], headers, "pm_card_chargeDeclined", key="k"), 422)
    problem(await buy(api, game["id"], headers, key=""), 422)
    problem(await buy(api, game["id"], headers, key="k" * 256), 422)
    assert await order_rows(api.service) == 1


async def test_a_refused_purchase_releases_its_key(api: GamesApi) -> None:
    headers = buyer(api)
    missing = str(uuid.uuid4())
    problem(await buy(api, missing, headers, key="k-404"), 404)
    problem(await buy(api, missing, headers, key="k-404"), 404)  # ran again, not replayed
