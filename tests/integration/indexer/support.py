"""Helpers for the indexer tests: real games' events, recorded in a real event store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TypeVar

from gamestore.games.domain import (
    Game,
    GameFields,
    delisted,
    new_game,
    replaced,
    stream_of,
)
from gamestore.games.events import GameCreated, GameDeleted, GameUpdated
from gamestore.platform.eventstore import NO_STREAM, EventStore, NewEvent

T = TypeVar("T")


def fields(title: str, **overrides: object) -> GameFields:
    base = GameFields(
        title=title,
        description="A game about exploring.",
        genres=("RPG",),
        platforms=("PC",),
        price_cents=4990,
        release_date=date(2020, 1, 1),
        developer="Studio",
        publisher="Publisher",
        tags=("fantasy",),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def now() -> datetime:
    return datetime.now(UTC)


async def create(store: EventStore, title: str, **overrides: object) -> Game:
    """Append GameCreated for a new game, as the games service would."""
    game = new_game(fields(title, **overrides), now())
    await store.append(stream_of(game.id), [GameCreated.of(game).new_event()], NO_STREAM)
    return game


async def rename(store: EventStore, game: Game, title: str) -> Game:
    """Append GameUpdated with a new title (version + 1)."""
    changed = replaced(game, replace(game.fields, title=title), now())
    await store.append(stream_of(game.id), [GameUpdated.of(changed).new_event()], game.version)
    return changed


async def delete(store: EventStore, game: Game) -> Game:
    gone = delisted(game, now())
    await store.append(stream_of(game.id), [GameDeleted.of(gone).new_event()], game.version)
    return gone


async def purchase(store: EventStore, game_id: str, order_id: str) -> None:
    data = {"order_id": order_id, "game_id": game_id, "user_id": "u-1", "amount_cents": 4990}
    await store.append(f"order-{order_id}", [NewEvent("PurchaseCompleted", data)], NO_STREAM)


async def eventually(
    check: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Poll ``check`` until ``ok`` holds of its value; fails with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    value = await check()
    while not ok(value):
        assert time.monotonic() < deadline, f"condition not reached within {timeout} s: {value!r}"
        await asyncio.sleep(0.02)
        value = await check()
    return value
