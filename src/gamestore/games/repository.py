"""The games database as the use cases see it: one Protocol, two adapters.

:class:`~gamestore.games.sql_repository.SqlGames` runs each method on the unit of work's
connection (PostgreSQL or SQLite); :class:`~gamestore.games.memory_repository.InMemoryGames`
keeps the same rules in dicts, so the use cases' decisions are unit tested without a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.games.covers.urls import UploadedCover
from gamestore.games.domain import Game, Order


@dataclass(frozen=True, slots=True)
class Owned:
    """One game in a player's library."""

    game_id: str
    title: str
    acquired_at: datetime
    order_id: str
    genres: tuple[str, ...] = ()
    cover: UploadedCover | None = None


class GamesRepository(Protocol):
    """Games, libraries, orders and the saga's inbox, inside one transaction.

    A write that breaks a unique rule (a listed title, one open order per player and game,
    a game id) raises :class:`sqlalchemy.exc.IntegrityError`, as the database's index does."""

    # games
    async def insert_game(self, game: Game) -> None: ...
    async def listed_game(self, game_id: str) -> Game | None: ...
    async def game_exists(self, game_id: str) -> bool: ...
    async def game_by_id(self, game_id: str) -> Game | None: ...
    async def title_in_use(self, title: str, except_id: str | None = None) -> bool: ...
    async def page_of_games(
        self, page: int, size: int, title: str | None = None
    ) -> tuple[list[Game], int]: ...
    async def save_game(self, game: Game, previous_version: int) -> bool: ...
    async def uploaded_covers(self, game_ids: list[str]) -> dict[str, UploadedCover]: ...

    # libraries
    async def add_to_library(
        self, user_id: str, game_id: str, order_id: str, acquired_at: datetime
    ) -> bool: ...
    async def library_of(self, user_id: str) -> list[Owned]: ...
    async def owns(self, user_id: str, game_id: str) -> bool: ...

    # orders
    async def insert_order(self, order: Order) -> None: ...
    async def order_by_id(self, order_id: str, *, lock: bool = False) -> Order | None: ...
    async def open_order_of(self, user_id: str, game_id: str) -> Order | None: ...
    async def page_of_orders(
        self, user_id: str, page: int, size: int
    ) -> tuple[list[Order], int]: ...
    async def save_order(self, order: Order) -> None: ...
    async def record_failed_payment(self, payment_id: str, order_id: str, reason: str) -> None: ...
    async def failed_payment_reason(self, payment_id: str) -> str | None: ...

    # the saga's inbox, and another store's write in the same transaction
    async def claim(self, consumer: str, event_id: uuid.UUID | str) -> bool: ...
    async def on_connection(self, write: Callable[[AsyncConnection], Awaitable[None]]) -> None: ...
