"""Players' libraries: what each player owns (the purchase saga adds, players read)."""

from __future__ import annotations

from datetime import datetime

from gamestore.games.repository import GamesRepository, Owned
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import UnitOfWork

log = get_logger("games")


class Libraries:
    def __init__(self, uow: UnitOfWork[GamesRepository]) -> None:
        self._uow = uow

    async def of(self, user_id: str) -> list[Owned]:
        """The games ``user_id`` owns, delisted ones included, oldest acquisition first."""
        async with self._uow.read() as repo:
            return await repo.library_of(user_id)

    async def grant(self, user_id: str, game_id: str, order_id: str, acquired_at: datetime) -> bool:
        """Add a game to a library; idempotent (False when the player already owned it)."""
        async with self._uow() as tx:
            added = await tx.repo.add_to_library(user_id, game_id, order_id, acquired_at)
        if added:
            log.info("game added to library", user_id=user_id, game_id=game_id, order_id=order_id)
        return added
