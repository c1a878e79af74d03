"""Catalog writes reach the event store through the outbox: one stream per game whose version is
the game's version, the public document as data, the request id as correlation id."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from gamestore.games.bootstrap import GamesService
from gamestore.games.tables import outbox
from gamestore.platform.eventstore import RecordedEvent
from tests.integration.games.support import GamesApi, game_body

DEADLINE = 10.0


async def stream_of(service: GamesService, game_id: str, count: int) -> list[RecordedEvent]:
    """The game's stream once it holds ``count`` events (polled with a deadline)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        events = await service.store.read_stream(f"game-{game_id}")
        if len(events) >= count or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.02)


async def test_create_update_delete_events_carry_the_game_version(api: GamesApi) -> None:
    corr = "games-events-test-1"
    headers = {**api.admin, "X-Request-ID": corr}
    created = (await api.client.post("/jogos", json=game_body(), headers=headers)).json()
    updated = (
        await api.client.put(f"/jogos/{created['id']}", json=game_body(), headers=headers)
    ).json()
    deleted = await api.client.delete(f"/jogos/{created['id']}", headers=headers)
    assert deleted.status_code == 204
    events = await stream_of(api.service, created["id"], 3)
    assert [(e.type, e.version) for e in events] == [
        ("GameCreated", 1),
        ("GameUpdated", 2),
        ("GameDeleted", 3),
    ]
    assert [e.data["version"] for e in events] == [1, 2, 3]
    assert events[0].data == created
    assert events[1].data == updated
    gone = events[2].data
    assert gone["id"] == created["id"] and gone["deleted_at"] == gone["updated_at"]
    assert {k: gone[k] for k in updated if k not in ("version", "updated_at")} == {
        k: updated[k] for k in updated if k not in ("version", "updated_at")
    }
    assert all(e.correlation_id == corr for e in events)


async def test_no_event_for_refused_or_empty_writes(api: GamesApi) -> None:
    game = await api.create("Tetris")
    await api.client.post("/jogos", json=game_body("tetris"), headers=api.admin)  # 409
    await api.put(game["id"], game_body(), if_match='"7"')  # 412
    await api.put(game["id"], game_body(price_cents=-5))  # 422
    same = {k: v for k, v in game.items() if k in game_body()}
    assert (await api.put(game["id"], same)).status_code == 200  # no change
    await api.client.post("/jogos", json=game_body(), headers=api.player)  # 403
    events = await stream_of(api.service, game["id"], 1)
    await _outbox_drained(api.service)
    assert [e.type for e in await api.service.store.read_stream(f"game-{game['id']}")] == [
        "GameCreated"
    ]
    all_games = [e for e in await api.service.store.read_all() if e.type.startswith("Game")]
    assert len(all_games) == len(events) == 1


async def _outbox_drained(service: GamesService) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        async with service.engine.connect() as conn:
            if (await conn.execute(select(outbox.table.c.id).limit(1))).first() is None:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the outbox was not drained")


async def test_events_hold_no_token_or_secret(api: GamesApi) -> None:
    token = api.admin["Authorization"].split()[1]
    game = await api.create()
    events = await stream_of(api.service, game["id"], 1)
    text = repr([e.envelope() for e in events])
    assert token not in text and "Bearer" not in text
    assert set(events[0].data) == set(game)
