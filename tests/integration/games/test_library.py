"""GET /biblioteca: the caller's games, from the library table, delisted ones included."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.integration.games.support import GamesApi, problem


async def test_a_new_player_has_an_empty_library(api: GamesApi) -> None:
    response = await api.client.get("/biblioteca", headers=api.player)
    assert response.status_code == 200
    assert response.json() == {"items": []}


async def test_library_lists_the_callers_games_only_delisted_included(api: GamesApi) -> None:
    owner, other = str(uuid.uuid4()), str(uuid.uuid4())
    first, second = await api.create("Portal"), await api.create("Portal 2")
    orders = [str(uuid.uuid4()) for _ in range(3)]
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    libraries = api.service.libraries
    assert await libraries.grant(owner, second["id"], orders[0], start + timedelta(hours=1))
    assert await libraries.grant(owner, first["id"], orders[1], start)
    assert await libraries.grant(other, first["id"], orders[2], start)
    assert not await libraries.grant(owner, first["id"], str(uuid.uuid4()), start)  # owned
    delete = await api.client.delete(f"/jogos/{first['id']}", headers=api.admin)
    assert delete.status_code == 204

    response = await api.client.get("/biblioteca", headers=api.issuer.headers("player", owner))
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "game_id": first["id"],
                "title": "Portal",
                "acquired_at": "2026-01-01T12:00:00Z",
                "order_id": orders[1],
                "cover": first["cover"],  # a delisted game keeps its cover for its owners
            },
            {
                "game_id": second["id"],
                "title": "Portal 2",
                "acquired_at": "2026-01-01T13:00:00Z",
                "order_id": orders[0],
                "cover": second["cover"],
            },
        ]
    }
    theirs = await api.client.get("/biblioteca", headers=api.issuer.headers("admin", other))
    assert [i["order_id"] for i in theirs.json()["items"]] == [orders[2]]


async def test_library_needs_a_valid_token(api: GamesApi) -> None:
    anonymous = await api.client.get("/biblioteca")
    problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"].lower().startswith("bearer")
    expired = {"Authorization": f"Bearer {api.issuer.token('player', ttl=-120)}"}
    problem(await api.client.get("/biblioteca", headers=expired), 401)
    problem(await api.client.get("/biblioteca", headers={"Authorization": "Bearer x.y.z"}), 401)
