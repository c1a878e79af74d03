"""Every row of the Games catalog in CONTRACT.md, through the gateway, against real processes
(users, games, gateway), plus the games service's own token checks when called directly."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gamestore.platform.eventstore import RecordedEvent, connect
from tests.conftest import fresh_postgres_database
from tests.e2e.api import Account, assert_problem, assert_unauthorized, eventually
from tests.e2e.conftest import create_admin
from tests.e2e.stack import Stack, running_stack

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def game_body(title: str | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "title": title or f"E2E Game {uuid.uuid4().hex[:10]}",
        "description": "Hunt monsters across a war-torn continent.",
        "genres": ["RPG"],
        "platforms": ["PC", "PS5"],
        "price_cents": 7990,
        "release_date": "2015-05-19",
        "developer": "CD Projekt Red",
        "publisher": "CD Projekt",
        "tags": ["open world"],
        **overrides,
    }


async def create_game(client: httpx.AsyncClient, admin: Account, **overrides: Any) -> Any:
    response = await client.post("/jogos", json=game_body(**overrides), headers=admin.auth)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def games_direct(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the games service itself, bypassing the gateway."""
    async with httpx.AsyncClient(base_url=stack.games_url, timeout=15) as http:
        yield http


async def test_catalog_lifecycle_through_the_gateway(
    client: httpx.AsyncClient, admin: Account
) -> None:
    created = await client.post("/jogos", json=game_body(), headers=admin.auth)
    assert created.status_code == 201, created.text
    game = created.json()
    assert (game["version"], game["currency"], created.headers["etag"]) == (1, "BRL", '"1"')
    path = f"/jogos/{game['id']}"
    assert created.headers["location"] == path

    read = await client.get(path)  # anonymous: public
    assert read.status_code == 200 and read.json() == game
    assert read.headers["etag"] == '"1"'

    changed = game_body(price_cents=3990)
    put = await client.put(path, json=changed, headers={**admin.auth, "If-Match": '"1"'})
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["price_cents"], put.headers["etag"]) == (
        2,
        3990,
        '"2"',
    )
    stale = await client.put(path, json=changed, headers={**admin.auth, "If-Match": '"1"'})
    assert_problem(stale, 412)
    assert (await client.put(path, json=game_body(), headers=admin.auth)).status_code == 200

    deleted = await client.delete(path, headers=admin.auth)
    assert deleted.status_code == 204
    assert_problem(await client.get(path), 404)
    assert_problem(await client.delete(path, headers=admin.auth), 404)
    assert_problem(await client.put(path, json=game_body(), headers=admin.auth), 404)
    listed = [g["id"] for g in await _whole_catalog(client)]
    assert game["id"] not in listed


async def _whole_catalog(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await client.get("/jogos", params={"page": page, "size": 100})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if page * 100 >= body["total"]:
            return items
        page += 1


async def test_catalog_page_is_public_and_paged(client: httpx.AsyncClient, admin: Account) -> None:
    mine = {(await create_game(client, admin))["id"] for _ in range(3)}
    first = await client.get("/jogos", params={"page": 1, "size": 2})
    assert first.status_code == 200
    body = first.json()
    assert (body["page"], body["size"], len(body["items"])) == (1, 2, 2)
    assert body["total"] >= 3
    assert mine <= {g["id"] for g in await _whole_catalog(client)}
    assert_problem(await client.get("/jogos", params={"size": 101}), 422)


async def test_duplicate_title_409_and_invalid_422(
    client: httpx.AsyncClient, admin: Account
) -> None:
    game = await create_game(client, admin)
    again = await client.post("/jogos", json=game_body(game["title"].upper()), headers=admin.auth)
    assert_problem(again, 409)
    for bad in (
        game_body(price_cents=-1),
        game_body(currency="USD"),
        game_body(title=" "),
        game_body(release_date="yesterday"),
        {**game_body(), "unknown": 1},
    ):
        body = assert_problem(await client.post("/jogos", json=bad, headers=admin.auth), 422)
        assert body["errors"], body
    assert_problem(await client.get(f"/jogos/{UNKNOWN}"), 404)
    assert_problem(await client.get("/jogos/not-a-uuid"), 404)
    assert_problem(await client.put(f"/jogos/{UNKNOWN}", json=game_body(), headers=admin.auth), 404)


async def test_player_is_403_and_anonymous_401_on_writes(
    client: httpx.AsyncClient, games_direct: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    game = await create_game(client, admin)
    path = f"/jogos/{game['id']}"
    for http in (client, games_direct):  # the gateway decides, and so does the service
        for method, target in (("POST", "/jogos"), ("PUT", path), ("DELETE", path)):
            forbidden = await http.request(method, target, json=game_body(), headers=player.auth)
            assert_problem(forbidden, 403)
            assert_unauthorized(await http.request(method, target, json=game_body()))
            forged = {"Authorization": "Bearer " + admin.access_token[:-6] + "AAAAAA"}
            assert_unauthorized(
                await http.request(method, target, json=game_body(), headers=forged)
            )
        assert (await http.get(path)).json() == game
    assert (await client.get(path)).json()["version"] == 1  # nothing was written


async def test_the_service_verifies_admin_tokens_with_the_users_keys(
    games_direct: httpx.AsyncClient, admin: Account
) -> None:
    created = await games_direct.post("/jogos", json=game_body(), headers=admin.auth)
    assert created.status_code == 201, created.text
    path = f"/jogos/{created.json()['id']}"
    assert (await games_direct.delete(path, headers=admin.auth)).status_code == 204


async def test_library_through_the_gateway(client: httpx.AsyncClient, player: Account) -> None:
    assert_unauthorized(await client.get("/biblioteca"))
    response = await client.get("/biblioteca", headers=player.auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": []}


async def test_events_carry_versions_and_the_request_id(
    client: httpx.AsyncClient, admin: Account, stack: Stack
) -> None:
    corr = f"e2e-games-{uuid.uuid4().hex[:12]}"
    headers = {**admin.auth, "X-Request-ID": corr}
    created = await client.post("/jogos", json=game_body(), headers=headers)
    assert created.headers["x-request-id"] == corr
    path = f"/jogos/{created.json()['id']}"
    assert (await client.put(path, json=game_body(), headers=headers)).status_code == 200
    assert (await client.delete(path, headers=headers)).status_code == 204
    events = await _stream(stack, f"game-{created.json()['id']}", 3)
    assert [(e.type, e.version, e.data["version"]) for e in events] == [
        ("GameCreated", 1, 1),
        ("GameUpdated", 2, 2),
        ("GameDeleted", 3, 3),
    ]
    assert {e.correlation_id for e in events} == {corr}
    assert admin.access_token not in str([e.envelope() for e in events])
    assert f"corr={corr}" in stack.log_text("games")


async def _stream(stack: Stack, stream_id: str, count: int) -> list[RecordedEvent]:
    store = await connect(stack.event_store_url)
    try:

        async def relayed() -> list[RecordedEvent] | None:
            found = await store.read_stream(stream_id)
            return found if len(found) >= count else None

        return await eventually(relayed, what=f"{count} events on {stream_id}")
    finally:
        await store.close()


@pytest.mark.postgres
class TestOnPostgreSQL:
    """The same flows with the games database and the event store on PostgreSQL."""

    @pytest.fixture(scope="class")
    def stack(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
        # One loop for both ends of the database context managers (asyncio.run would finalise).
        loop = asyncio.new_event_loop()
        try:
            with contextlib.ExitStack() as cleanup:
                urls = []
                for _ in ("games", "events"):
                    database = fresh_postgres_database()
                    urls.append(loop.run_until_complete(database.__aenter__()))
                    cleanup.callback(loop.run_until_complete, database.__aexit__(None, None, None))
                extra = {"GAMESTORE_GAMES_DB_URL": urls[0], "GAMESTORE_EVENTSTORE_URL": urls[1]}
                with running_stack(tmp_path_factory.mktemp("games-pg"), extra) as running:
                    yield running
                assert not (running.data_dir / "games.db").exists(), "games used SQLite"
        finally:
            loop.close()

    @pytest.fixture(scope="class")
    def admin(self, stack: Stack) -> Account:
        return create_admin(stack)

    test_catalog_lifecycle = staticmethod(test_catalog_lifecycle_through_the_gateway)
    test_duplicate_and_invalid = staticmethod(test_duplicate_title_409_and_invalid_422)
    test_access = staticmethod(test_player_is_403_and_anonymous_401_on_writes)
    test_events = staticmethod(test_events_carry_versions_and_the_request_id)
