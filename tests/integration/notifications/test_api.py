"""GET /notificacoes: only the caller's notifications, newest first, a page at a time; a token
is required and checked by the service itself."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from gamestore.notifications.bootstrap import NotifierService
from gamestore.platform.eventstore import NewEvent
from tests.integration.games.support import Issuer, problem
from tests.integration.notifications.support import (
    payment_failed,
    purchase_completed,
    record,
    user_registered,
)


async def _notify(service: NotifierService, *events: NewEvent) -> None:
    for event in await record(service.store, *events):
        await service.notifier.handle(event)


async def test_no_token_or_a_bad_one_is_401(client: httpx.AsyncClient, issuer: Issuer) -> None:
    for headers in ({}, {"Authorization": "Bearer not.a.token"}, {"Authorization": "Basic eA=="}):
        body = problem(await client.get("/notificacoes", headers=headers), 401)
        assert "token" in body["detail"]
    response = await client.get("/notificacoes", headers=headers)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    forged = Issuer().headers("player")  # signed by a key the service does not trust
    problem(await client.get("/notificacoes", headers=forged), 401)


async def test_a_player_sees_only_their_own(
    client: httpx.AsyncClient, service: NotifierService, issuer: Issuer
) -> None:
    ana, bia = str(uuid.uuid4()), str(uuid.uuid4())
    await _notify(
        service,
        user_registered(ana, "Ana"),
        user_registered(bia, "Bia"),
        purchase_completed(ana, "Hades"),
        payment_failed(bia, "card_declined", "Celeste"),
    )
    mine = (await client.get("/notificacoes", headers=issuer.headers("player", ana))).json()
    assert mine["total"] == 2 and (mine["page"], mine["size"]) == (1, 20)
    assert [i["message"] for i in mine["items"]] == [
        "Compra concluída: Hades já está na sua biblioteca.",
        "Bem-vindo(a) à GameStore, Ana!",
    ]
    assert [i["type"] for i in mine["items"]] == ["purchase_completed", "welcome"]
    item = mine["items"][0]
    assert set(item) == {"id", "type", "message", "created_at"}
    assert datetime.fromisoformat(item["created_at"]).utcoffset() is not None

    hers = (await client.get("/notificacoes", headers=issuer.headers("player", bia))).json()
    assert [i["type"] for i in hers["items"]] == ["payment_failed", "welcome"]
    # an admin is a caller like any other here: their own notifications only
    admin = (await client.get("/notificacoes", headers=issuer.headers("admin"))).json()
    assert admin == {"items": [], "total": 0, "page": 1, "size": 20}


async def test_pages_newest_first(
    client: httpx.AsyncClient, service: NotifierService, issuer: Issuer
) -> None:
    ana = str(uuid.uuid4())
    titles = [f"Jogo {n}" for n in range(5)]
    await _notify(service, *(purchase_completed(ana, title) for title in titles))
    headers = issuer.headers("player", ana)

    async def page(query: str) -> list[str]:
        body = (await client.get(f"/notificacoes?{query}", headers=headers)).json()
        assert body["total"] == 5
        return [i["message"].split(":")[1].split(" já")[0].strip() for i in body["items"]]

    assert await page("page=1&size=2") == ["Jogo 4", "Jogo 3"]
    assert await page("page=2&size=2") == ["Jogo 2", "Jogo 1"]
    assert await page("page=3&size=2") == ["Jogo 0"]
    assert await page("page=4&size=2") == []
    assert await page("size=100") == titles[::-1]


async def test_bad_paging_is_422(client: httpx.AsyncClient, issuer: Issuer) -> None:
    headers = issuer.headers("player")
    for query in ("size=101", "size=0", "page=0", "page=x", "size=-1"):
        body = problem(await client.get(f"/notificacoes?{query}", headers=headers), 422)
        assert body["errors"]


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "alive"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["status"] == "up"
