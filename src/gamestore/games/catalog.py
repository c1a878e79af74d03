"""Catalog use cases: create, read, list, replace, delist a game.

Each write is one unit of work: the row and its event (through the outbox) commit together.
The event's stream version is the game's version: creation expects no stream, every later
write expects the version it replaced, so a catalog and a stream that ever diverge stop the
relay loudly instead of publishing a wrong history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from gamestore.games.covers.urls import UploadedCover
from gamestore.games.domain import (
    Game,
    GameExists,
    GameFields,
    GameNotFound,
    IfMatch,
    TitleTaken,
    VersionConflict,
    canonical_id,
    check_precondition,
    delisted,
    new_game,
    replaced,
    stream_of,
)
from gamestore.games.events import GameCreated, GameDeleted, GameUpdated
from gamestore.games.repository import GamesRepository
from gamestore.platform.clock import utcnow
from gamestore.platform.eventstore import NO_STREAM
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import UnitOfWork

log = get_logger("games")
T = TypeVar("T")
ATTEMPTS = 5  # a write without If-Match retries a lost race this many times


async def retrying(if_match: IfMatch, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt``; a lost race is retried unless the caller pinned a version (If-Match),
    in which case the other writer's change makes the caller's version stale."""
    for _ in range(ATTEMPTS - 1):
        try:
            return await attempt()
        except VersionConflict:
            if if_match is not None:
                raise
    return await attempt()


class Catalog:
    def __init__(self, uow: UnitOfWork[GamesRepository]) -> None:
        self._uow = uow

    async def create(self, fields: GameFields, game_id: str | None = None) -> Game:
        """A new listed game; :class:`TitleTaken` if a listed game has this title.

        ``game_id`` gives the game a chosen id (the demo catalog's stable ids):
        :class:`GameExists` if any game, even a delisted one, ever had it."""
        game = new_game(fields, utcnow(), game_id)
        try:
            async with self._uow() as tx:
                if game_id is not None and await tx.repo.game_exists(game.id):
                    raise GameExists(game.id)
                if await tx.repo.title_in_use(fields.title):
                    raise TitleTaken(fields.title)
                await tx.repo.insert_game(game)
                tx.emit(stream_of(game.id), GameCreated.of(game), NO_STREAM)
        except IntegrityError as error:  # a concurrent creation won a unique index
            if game_id is not None and await self._exists(game.id):
                raise GameExists(game.id) from error
            raise TitleTaken(fields.title) from error
        log.info("game created", game_id=game.id, version=game.version)
        return game

    async def _exists(self, game_id: str) -> bool:
        async with self._uow.read() as repo:
            return await repo.game_exists(game_id)

    async def get(self, game_id: str) -> Game:
        """A listed game; :class:`GameNotFound` for unknown, delisted or malformed ids."""
        game_id = canonical_id(game_id)
        async with self._uow.read() as repo:
            game = await repo.listed_game(game_id)
        if game is None:
            raise GameNotFound(game_id)
        return game

    async def owned(self, game_id: str) -> Game:
        """A game listed or delisted (what a library may show); :class:`GameNotFound` for
        unknown or malformed ids."""
        game_id = canonical_id(game_id)
        async with self._uow.read() as repo:
            game = await repo.game_by_id(game_id)
        if game is None:
            raise GameNotFound(game_id)
        return game

    async def page(self, page: int, size: int, title: str | None = None) -> tuple[list[Game], int]:
        """Listed games in title order (only titles containing ``title``, if given), and how
        many there are."""
        async with self._uow.read() as repo:
            return await repo.page_of_games(page, size, title)

    async def uploaded_covers(self, game_ids: list[str]) -> dict[str, UploadedCover]:
        """The uploaded covers of the games among ``game_ids`` that have one (search results
        read covers here, so the search index's documents stay as they are)."""
        async with self._uow.read() as repo:
            return await repo.uploaded_covers(game_ids)

    async def replace(self, game_id: str, fields: GameFields, if_match: IfMatch = None) -> Game:
        """Every field replaced, version + 1; :class:`PreconditionFailed` on a stale If-Match,
        :class:`TitleTaken` if another listed game has the new title."""
        game_id = canonical_id(game_id)
        try:
            game, changed = await retrying(
                if_match, lambda: self._replace_once(game_id, fields, if_match)
            )
        except IntegrityError as error:
            raise TitleTaken(fields.title) from error
        if changed:
            log.info("game updated", game_id=game_id, version=game.version)
        return game

    async def _replace_once(
        self, game_id: str, fields: GameFields, if_match: IfMatch
    ) -> tuple[Game, bool]:
        async with self._uow() as tx:
            current = await tx.repo.listed_game(game_id)
            if current is None:
                raise GameNotFound(game_id)
            check_precondition(if_match, current.version)
            if current.fields == fields:
                return current, False  # nothing changes: no new version, no event
            if await tx.repo.title_in_use(fields.title, except_id=game_id):
                raise TitleTaken(fields.title)
            game = replaced(current, fields, utcnow())
            if not await tx.repo.save_game(game, current.version):
                raise VersionConflict(game_id)
            tx.emit(stream_of(game_id), GameUpdated.of(game), current.version)
        return game, True

    async def delist(self, game_id: str) -> None:
        """Take a listed game off the catalog (version + 1); owners keep it in their library."""
        game_id = canonical_id(game_id)
        game = await retrying(None, lambda: self._delist_once(game_id))
        log.info("game delisted", game_id=game_id, version=game.version)

    async def _delist_once(self, game_id: str) -> Game:
        async with self._uow() as tx:
            current = await tx.repo.listed_game(game_id)
            if current is None:
                raise GameNotFound(game_id)
            game = delisted(current, utcnow())
            if not await tx.repo.save_game(game, current.version):
                raise VersionConflict(game_id)
            tx.emit(stream_of(game_id), GameDeleted.of(game), current.version)
        return game
