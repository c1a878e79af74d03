"""Search, popular and recommended games through the games app, fed by the real indexer.

The indexer runs in the background on the embedded bus over the service's own event store, so
a write here reaches search exactly as it does in production (outbox → store → bus → index).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gamestore.games.bootstrap import GamesService
from gamestore.platform.bus import Backoff, connect_bus
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import NO_STREAM, NewEvent
from gamestore.search.index import open_search
from gamestore.search.indexer.bootstrap import open_indexer_database
from gamestore.search.indexer.handler import EVENT_TYPES, GROUP, Indexer
from tests.integration.games.support import GamesApi, problem

HOSTILE = ["' OR 1=1 --", "*", '"unbalanced', "title:(", "a" * 10_240, "\x00\x07\x1b[2J", "🎮"]


@pytest.fixture
async def indexer(service: GamesService, settings: Settings) -> AsyncIterator[None]:
    """The indexer consuming the service's events into the index the app reads."""
    engine = await open_indexer_database(settings)
    index = await open_search(settings.search_url, settings.data_dir)
    bus = await connect_bus("embedded", service.store, backoff=Backoff(0.01, 0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(
        bus.consume(GROUP, EVENT_TYPES, Indexer(index, engine).handle, stop=stop)
    )
    yield
    stop.set()
    await task
    await bus.close()
    await index.close()
    await engine.dispose()


async def until(
    fetch: Callable[[], Awaitable[httpx.Response]], ok: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """GET until the 200 body satisfies ``ok`` (the indexer is asynchronous), within 10 s."""
    deadline = time.monotonic() + 10
    while True:
        response = await fetch()
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if ok(body):
            return body
        assert time.monotonic() < deadline, f"not reached in 10 s: {body}"
        await asyncio.sleep(0.02)


def search(api: GamesApi, **params: Any) -> Callable[[], Awaitable[httpx.Response]]:
    return lambda: api.client.get("/jogos/busca", params=params)


@pytest.mark.usefixtures("indexer")
async def test_search_typo_accent_prefix_facets_and_highlight(api: GamesApi) -> None:
    witcher = await api.create("The Witcher 3", genres=["RPG"], platforms=["PC", "PS5"])
    await api.create("Pokémon Violet", genres=["RPG", "Adventure"], platforms=["Switch"])
    await api.create("Tetris", genres=["Puzzle"], platforms=["PC"], tags=["classic"])

    everything = await until(search(api), lambda b: b["total"] == 3)
    body = (await search(api, q="witcer")()).json()
    item = body["items"][0]
    assert item["id"] == witcher["id"] and item["title"] == "The Witcher 3"
    assert set(item) == {
        "id", "title", "genres", "platforms", "price_cents", "release_date", "score", "highlight",
        "cover",
    }  # fmt: skip
    assert item["cover"] == witcher["cover"]  # the generated artwork, as the game has it
    assert "<em>" in item["highlight"] and item["score"] > 0
    for text, title in (("pokemon", "Pokémon Violet"), ("witch", "The Witcher 3")):
        found = (await search(api, q=text)()).json()
        assert found["items"][0]["title"] == title, found

    assert everything["facets"] == {
        "genres": {"RPG": 2, "Adventure": 1, "Puzzle": 1},
        "platforms": {"PC": 2, "PS5": 1, "Switch": 1},
    }
    rpg_on_pc = (await search(api, genre="RPG", platform="PC")()).json()
    assert [i["title"] for i in rpg_on_pc["items"]] == ["The Witcher 3"]


@pytest.mark.usefixtures("indexer")
async def test_a_renamed_game_is_found_by_its_new_title_only_and_a_deleted_one_not_at_all(
    api: GamesApi,
) -> None:
    game = await api.create("Hollow Knight")
    await until(search(api, q="hollow"), lambda b: b["total"] == 1)
    renamed = await api.put(game["id"], {**_body(game), "title": "Silksong"})
    assert renamed.status_code == 200, renamed.text
    await until(search(api, q="silksong"), lambda b: b["total"] == 1)
    assert (await search(api, q="hollow")()).json()["total"] == 0
    deleted = await api.client.delete(f"/jogos/{game['id']}", headers=api.admin)
    assert deleted.status_code == 204
    await until(search(api, q="silksong"), lambda b: b["total"] == 0)


def _body(game: dict[str, Any]) -> dict[str, Any]:
    keep = ("title", "description", "genres", "platforms", "price_cents", "currency",
            "release_date", "developer", "publisher", "tags")  # fmt: skip
    return {k: game[k] for k in keep}


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "bogus"},
        {"size": "0"},
        {"size": "101"},
        {"page": "0"},
        {"page": "abc"},
        {"min_price": "-1"},
        {"max_price": "1.5"},
        {"q": "x" * 600},
        {"page": "200", "size": "100"},
        {"genre": "g" * 200},
    ],
)
async def test_bad_parameters_are_422_problems(api: GamesApi, params: dict[str, str]) -> None:
    problem(await api.client.get("/jogos/busca", params=params), 422)


async def test_an_empty_price_range_matches_nothing(api: GamesApi) -> None:
    """Not an error (no document can say "min ≤ max"): no price lies in it."""
    await api.create("Any Game")
    response = await api.client.get("/jogos/busca", params={"min_price": 500, "max_price": 100})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [] and response.json()["total"] == 0


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_queries_are_answered_never_500(api: GamesApi, text: str) -> None:
    await api.create("Safe Game")
    for params in ({"q": text}, {"genre": text[:100]}, {"platform": text[:100], "q": text[:50]}):
        response = await api.client.get("/jogos/busca", params=params)
        assert response.status_code in (200, 422), response.text[:300]


async def test_busca_and_populares_are_not_game_ids(api: GamesApi) -> None:
    empty = await api.client.get("/jogos/busca")
    assert empty.status_code == 200, empty.text
    assert empty.json() == {
        "items": [], "total": 0, "page": 1, "size": 20, "facets": {"genres": {}, "platforms": {}}
    }  # fmt: skip
    assert (await api.client.get("/jogos/populares")).json() == {"items": []}
    problem(await api.client.get("/jogos/populares", params={"limit": "0"}), 422)
    problem(await api.client.get("/jogos/populares", params={"limit": "101"}), 422)


async def _purchase(service: GamesService, game_id: str) -> None:
    order = str(uuid.uuid4())
    data = {"order_id": order, "game_id": game_id, "user_id": str(uuid.uuid4())}
    await service.store.append(f"order-{order}", [NewEvent("PurchaseCompleted", data)], NO_STREAM)


@pytest.mark.usefixtures("indexer")
async def test_populares_ranks_by_completed_purchases(api: GamesApi, service: GamesService) -> None:
    first, second = await api.create("Best Seller"), await api.create("Runner Up")
    await api.create("Nobody Bought This")
    for game, times in ((first, 3), (second, 1)):
        for _ in range(times):
            await _purchase(service, game["id"])
    body = await until(lambda: api.client.get("/jogos/populares"), lambda b: len(b["items"]) == 2)
    assert [i["id"] for i in body["items"]] == [first["id"], second["id"]]
    by_sort = (await search(api, sort="popular")()).json()
    assert [i["id"] for i in by_sort["items"][:2]] == [first["id"], second["id"]]


@pytest.mark.usefixtures("indexer")
async def test_recomendados_follow_the_library_and_skip_owned_games(
    api: GamesApi, service: GamesService
) -> None:
    owned = await api.create("Dark Souls", genres=["Soulslike"], tags=["hard"])
    alike = await api.create("Elden Ring", genres=["Soulslike", "RPG"], tags=["hard"])
    await api.create("Farming Sim", genres=["Simulation"], tags=["cozy"])
    await until(search(api), lambda b: b["total"] == 3)
    user = str(uuid.uuid4())
    await service.libraries.grant(user, owned["id"], str(uuid.uuid4()), datetime.now(UTC))
    headers = api.issuer.headers("player", user)

    body = (await api.client.get("/jogos/recomendados", headers=headers)).json()
    assert [i["id"] for i in body["items"]] == [alike["id"]]
    problem(await api.client.get("/jogos/recomendados"), 401)


@pytest.mark.usefixtures("indexer")
async def test_an_empty_library_is_recommended_popular_games(
    api: GamesApi, service: GamesService
) -> None:
    hit = await api.create("Popular One")
    await api.create("Unbought One")
    await _purchase(service, hit["id"])
    headers = api.issuer.headers("player")
    body = await until(
        lambda: api.client.get("/jogos/recomendados", headers=headers),
        lambda b: len(b["items"]) == 1,
    )
    assert body["items"][0]["id"] == hit["id"]
