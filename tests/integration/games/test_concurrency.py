"""Races: same If-Match, same title, same delete; the stream never diverges from the row."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gamestore.games.domain import replaced
from gamestore.games.sql_repository import SqlGames
from tests.integration.games.support import GamesApi, game_body, problem
from tests.integration.games.test_events import stream_of

ROUNDS = 5


async def test_two_puts_with_the_same_if_match_one_wins_one_is_412(api: GamesApi) -> None:
    for _ in range(ROUNDS):
        game = await api.create()
        results = await asyncio.gather(
            api.put(game["id"], game_body(), if_match='"1"'),
            api.put(game["id"], game_body(), if_match='"1"'),
        )
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        assert winner["version"] == 2
        assert (await api.client.get(f"/jogos/{game['id']}")).json() == winner
        events = await stream_of(api.service, game["id"], 2)
        assert [e.version for e in events] == [1, 2]
        assert events[1].data == winner


async def test_concurrent_puts_without_if_match_all_apply_in_turn(api: GamesApi) -> None:
    game = await api.create()
    writers = 4
    results = await asyncio.gather(*(api.put(game["id"], game_body()) for _ in range(writers)))
    assert [r.status_code for r in results] == [200] * writers, [r.text for r in results]
    assert sorted(r.json()["version"] for r in results) == list(range(2, writers + 2))
    final = (await api.client.get(f"/jogos/{game['id']}")).json()
    events = await stream_of(api.service, game["id"], writers + 1)
    assert [e.version for e in events] == list(range(1, writers + 2))
    assert events[-1].data == final


async def test_concurrent_creates_of_one_title_one_201_one_409(api: GamesApi) -> None:
    for round_ in range(ROUNDS):
        title = f"Race {round_}"
        results = await asyncio.gather(
            api.client.post("/jogos", json=game_body(title), headers=api.admin),
            api.client.post("/jogos", json=game_body(title.upper()), headers=api.admin),
        )
        assert sorted(r.status_code for r in results) == [201, 409], [r.text for r in results]
        problem(next(r for r in results if r.status_code == 409), 409)
    assert (await api.client.get("/jogos")).json()["total"] == ROUNDS


async def test_concurrent_deletes_one_204_one_404(api: GamesApi) -> None:
    for _ in range(ROUNDS):
        game = await api.create()
        path = f"/jogos/{game['id']}"
        results = await asyncio.gather(
            api.client.delete(path, headers=api.admin),
            api.client.delete(path, headers=api.admin),
        )
        assert sorted(r.status_code for r in results) == [204, 404]
        events = await stream_of(api.service, game["id"], 2)
        assert [(e.type, e.version) for e in events] == [("GameCreated", 1), ("GameDeleted", 2)]


async def test_a_put_racing_a_delete_never_revives_the_game(api: GamesApi) -> None:
    for _ in range(ROUNDS):
        game = await api.create()
        path = f"/jogos/{game['id']}"
        put, delete = await asyncio.gather(
            api.put(game["id"], game_body()), api.client.delete(path, headers=api.admin)
        )
        assert delete.status_code == 204
        assert put.status_code in (200, 404)
        problem(await api.client.get(path), 404)
        events = await stream_of(api.service, game["id"], 3 if put.status_code == 200 else 2)
        assert events[-1].type == "GameDeleted"
        assert [e.version for e in events] == list(range(1, len(events) + 1))


async def test_the_update_writes_only_over_the_version_it_read(api: GamesApi) -> None:
    game = await api.create()
    engine = api.service.engine
    async with engine.begin() as conn:
        repo = SqlGames(conn)
        current = await repo.listed_game(game["id"])
        assert current is not None
        newer = replaced(current, current.fields, datetime.now(UTC))
        assert await repo.save_game(newer, previous_version=1)
        assert not await repo.save_game(replaced(newer, current.fields, newer.updated_at), 1)
    assert (await api.client.get(f"/jogos/{game['id']}")).json()["version"] == 2
