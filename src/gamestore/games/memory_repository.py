"""The games repository in memory, for unit tests of the use cases.

Small but faithful to :class:`~gamestore.games.sql_repository.SqlGames` where a decision
depends on it: titles are unique among listed games after :func:`normalize_title`, a game id
and an open order per (player, game) are unique (``IntegrityError``, as the indexes raise),
``save_game`` is the same optimistic lock on the version, a delisted game keeps its row.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.games.covers.urls import UploadedCover
from gamestore.games.domain import OPEN_STATUSES, Game, Order, normalize_title
from gamestore.games.repository import Owned


def _unique(index: str) -> IntegrityError:
    return IntegrityError(f"unique index {index}", None, ValueError(index))


@dataclass(frozen=True, slots=True)
class _Grant:
    game_id: str
    order_id: str
    acquired_at: datetime


@dataclass
class InMemoryGames:
    """:class:`~gamestore.games.repository.GamesRepository` in dicts."""

    games: dict[str, Game] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    libraries: dict[str, list[_Grant]] = field(default_factory=dict)
    failed_payments: dict[str, str] = field(default_factory=dict)
    claimed: set[tuple[str, str]] = field(default_factory=set)

    async def insert_game(self, game: Game) -> None:
        if game.id in self.games:
            raise _unique("games_pkey")
        if await self.title_in_use(game.title):
            raise _unique("games_title_listed")
        self.games[game.id] = game

    async def listed_game(self, game_id: str) -> Game | None:
        game = self.games.get(game_id)
        return game if game is not None and game.listed else None

    async def game_exists(self, game_id: str) -> bool:
        return game_id in self.games

    async def game_by_id(self, game_id: str) -> Game | None:
        return self.games.get(game_id)

    async def title_in_use(self, title: str, except_id: str | None = None) -> bool:
        key = normalize_title(title)
        return any(
            g.listed and g.id != except_id and normalize_title(g.title) == key
            for g in self.games.values()
        )

    async def page_of_games(
        self, page: int, size: int, title: str | None = None
    ) -> tuple[list[Game], int]:
        wanted = normalize_title(title or "")
        found = [g for g in self.games.values() if g.listed and wanted in normalize_title(g.title)]
        found.sort(key=lambda g: (normalize_title(g.title), g.id))
        return found[(page - 1) * size : page * size], len(found)

    async def save_game(self, game: Game, previous_version: int) -> bool:
        current = await self.listed_game(game.id)
        if current is None or current.version != previous_version:
            return False
        self.games[game.id] = game
        return True

    async def uploaded_covers(self, game_ids: list[str]) -> dict[str, UploadedCover]:
        return {i: g.cover for i in game_ids if (g := self.games.get(i)) and g.cover is not None}

    async def add_to_library(
        self, user_id: str, game_id: str, order_id: str, acquired_at: datetime
    ) -> bool:
        if await self.owns(user_id, game_id):
            return False
        self.libraries.setdefault(user_id, []).append(_Grant(game_id, order_id, acquired_at))
        return True

    async def library_of(self, user_id: str) -> list[Owned]:
        grants = sorted(self.libraries.get(user_id, []), key=lambda g: (g.acquired_at, g.game_id))
        owned = []
        for grant in grants:
            game = self.games[grant.game_id]
            owned.append(
                Owned(
                    game.id,
                    game.title,
                    grant.acquired_at,
                    grant.order_id,
                    game.fields.genres,
                    game.cover,
                )
            )
        return owned

    async def owns(self, user_id: str, game_id: str) -> bool:
        return any(g.game_id == game_id for g in self.libraries.get(user_id, []))

    async def insert_order(self, order: Order) -> None:
        if order.status in OPEN_STATUSES and await self.open_order_of(order.user_id, order.game_id):
            raise _unique("orders_one_open")
        self.orders[order.id] = order

    async def order_by_id(self, order_id: str, *, lock: bool = False) -> Order | None:
        return self.orders.get(order_id)

    async def open_order_of(self, user_id: str, game_id: str) -> Order | None:
        return next(
            (
                o
                for o in self.orders.values()
                if o.user_id == user_id and o.game_id == game_id and o.status in OPEN_STATUSES
            ),
            None,
        )

    async def page_of_orders(self, user_id: str, page: int, size: int) -> tuple[list[Order], int]:
        mine = sorted(
            (o for o in self.orders.values() if o.user_id == user_id),
            key=lambda o: o.id,
        )
        mine.sort(key=lambda o: o.created_at, reverse=True)  # newest first, then id
        return mine[(page - 1) * size : page * size], len(mine)

    async def save_order(self, order: Order) -> None:
        self.orders[order.id] = order

    async def record_failed_payment(self, payment_id: str, order_id: str, reason: str) -> None:
        self.failed_payments.setdefault(payment_id, reason)

    async def failed_payment_reason(self, payment_id: str) -> str | None:
        return self.failed_payments.get(payment_id)

    async def claim(self, consumer: str, event_id: uuid.UUID | str) -> bool:
        key = (consumer, str(event_id))
        if key in self.claimed:
            return False
        self.claimed.add(key)
        return True

    async def on_connection(self, write: Callable[[AsyncConnection], Awaitable[None]]) -> None:
        """There is no SQL transaction in memory: a use case that needs one is tested
        against the real database instead."""
        raise NotImplementedError("the in-memory games repository has no connection")
