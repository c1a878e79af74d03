"""Players' libraries: what each player owns (the purchase saga adds, players read)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.games import repository as repo
from gamestore.games.repository import Owned
from gamestore.platform.db import read_only
from gamestore.platform.logs import get_logger

log = get_logger("games")


class Libraries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def of(self, user_id: str) -> list[Owned]:
        """The games ``user_id`` owns, delisted ones included, oldest acquisition first."""
        async with read_only(self._engine) as conn:
            return await repo.library_of(conn, user_id)

    async def grant(self, user_id: str, game_id: str, order_id: str, acquired_at: datetime) -> bool:
        """Add a game to a library; idempotent (False when the player already owned it)."""
        async with self._engine.begin() as conn:
            added = await repo.add_to_library(conn, user_id, game_id, order_id, acquired_at)
        if added:
            log.info("game added to library", user_id=user_id, game_id=game_id, order_id=order_id)
        return added
