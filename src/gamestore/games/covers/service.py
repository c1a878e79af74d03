"""Cover use cases: upload, remove, and read a cover file.

An upload is processed (in a worker thread: decoding and encoding are CPU work), its files are
stored under content-addressed keys, and only then is it recorded on the game (one unit of
work, with its ``GameUpdated``): a client can never be handed a URL whose file is not there
yet. The files of the cover it replaced are deleted after that commit. A crash between the two
steps leaves unreferenced files behind, never a reference without files.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gamestore.games.catalog import retrying
from gamestore.games.covers.artwork import artwork, artwork_digest
from gamestore.games.covers.images import process
from gamestore.games.covers.storage import CoverStorage
from gamestore.games.covers.urls import (
    MEDIA_TYPES,
    ArtworkFile,
    UploadedCover,
    UploadedFile,
    file_key,
    parse_file,
)
from gamestore.games.domain import (
    Game,
    GameNotFound,
    VersionConflict,
    canonical_id,
    stream_of,
    with_cover,
)
from gamestore.games.events import GameUpdated
from gamestore.games.repository import GamesRepository
from gamestore.platform.clock import utcnow
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import UnitOfWork

log = get_logger("games.covers")


class CoverNotFound(LookupError):
    """No such cover file for a listed game."""


@dataclass(frozen=True, slots=True)
class CoverFile:
    """One cover file as served: ``current`` is False for an outdated artwork URL (it is then
    answered with today's artwork, and not cached for long)."""

    body: bytes
    media_type: str
    etag: str
    current: bool = True


class Covers:
    def __init__(self, uow: UnitOfWork[GamesRepository], storage: CoverStorage) -> None:
        self._uow = uow
        self._storage = storage

    async def upload(self, game_id: str, data: bytes) -> Game:
        """Make ``data`` the game's cover; :class:`CoverRejected` if it cannot be one."""
        game_id = (await self._game(game_id, listed=True)).id  # 404 before any image work
        cover = await asyncio.to_thread(process, data)
        for rendition in cover.renditions:
            for ext, body in (("webp", rendition.webp), ("jpg", rendition.jpeg)):
                key = file_key(game_id, cover.digest, rendition.width, ext)
                await self._storage.put(key, body, MEDIA_TYPES[ext])
        sizes = tuple((r.width, r.height) for r in cover.renditions)
        game, previous = await self._set_cover(game_id, UploadedCover(cover.digest, sizes))
        await self._discard(game.id, previous, keep=game.cover)
        return game

    async def remove(self, game_id: str) -> Game:
        """Back to generated artwork; the uploaded files are deleted."""
        game, previous = await self._set_cover(game_id, None)
        await self._discard(game.id, previous, keep=None)
        return game

    async def file(self, game_id: str, name: str) -> CoverFile:
        """The bytes of cover file ``name``; :class:`CoverNotFound` when there are none."""
        asked = parse_file(name)
        if asked is None:
            raise CoverNotFound(name)
        game = await self._game(game_id, listed=False)  # a library shows delisted games too
        if isinstance(asked, ArtworkFile):
            digest = artwork_digest(game.title, game.fields.genres)
            svg = artwork(game.title, game.fields.genres)
            return CoverFile(svg, MEDIA_TYPES["svg"], f'"{digest}"', digest == asked.digest)
        return await self._uploaded(game.id, asked)

    async def _game(self, game_id: str, *, listed: bool) -> Game:
        """The game (only if listed, with ``listed``); :class:`GameNotFound` otherwise."""
        game_id = canonical_id(game_id)
        async with self._uow.read() as repo:
            game = await (repo.listed_game(game_id) if listed else repo.game_by_id(game_id))
        if game is None:
            raise GameNotFound(game_id)
        return game

    async def _set_cover(
        self, game_id: str, cover: UploadedCover | None
    ) -> tuple[Game, UploadedCover | None]:
        """The game with ``cover`` as its upload (None: back to generated artwork), version
        + 1 and a ``GameUpdated``, and the cover it replaced; no change, no new version."""
        game_id = canonical_id(game_id)
        game, previous = await retrying(None, lambda: self._set_cover_once(game_id, cover))
        if game.cover != previous:
            log.info("game cover changed", game_id=game_id, version=game.version)
        return game, previous

    async def _set_cover_once(
        self, game_id: str, cover: UploadedCover | None
    ) -> tuple[Game, UploadedCover | None]:
        async with self._uow() as tx:
            current = await tx.repo.listed_game(game_id)
            if current is None:
                raise GameNotFound(game_id)
            if current.cover == cover:
                return current, current.cover
            game = with_cover(current, cover, utcnow())
            if not await tx.repo.save_game(game, current.version):
                raise VersionConflict(game_id)
            tx.emit(stream_of(game_id), GameUpdated.of(game), current.version)
        return game, current.cover

    async def _uploaded(self, game_id: str, asked: UploadedFile) -> CoverFile:
        body = await self._storage.get(file_key(game_id, asked.digest, asked.width, asked.ext))
        if body is None:
            raise CoverNotFound(asked.digest)
        etag = f'"{asked.digest}-{asked.width}-{asked.ext}"'
        return CoverFile(body, MEDIA_TYPES[asked.ext], etag)

    async def _discard(
        self, game_id: str, previous: UploadedCover | None, keep: UploadedCover | None
    ) -> None:
        """Delete the replaced cover's files (not those the game still uses); a failure is
        logged, never raised: the catalog already moved on and orphans only cost space."""
        if previous is None or (keep is not None and keep.digest == previous.digest):
            return
        for key in previous.keys(game_id):
            try:
                await self._storage.delete(key)
            except Exception as error:
                log.warning("cover file not deleted", key=key, error=repr(error))
