"""HTTP routes of the games service: parse, call one use case, map domain errors to problems.

Reads of the catalog are public. Writes need an admin's access token, and ``/biblioteca`` any
valid one; the service verifies tokens itself (a request that bypasses the gateway gets no
further).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from gamestore.games.covers.urls import cover_public
from gamestore.games.domain import Game, etag, parse_if_match
from gamestore.games.schemas import (
    CoverPublic,
    GameIn,
    GamePage,
    GamePublic,
    Library,
    LibraryItem,
)
from gamestore.games.state import GamesState
from gamestore.platform.auth import AdminUser, CurrentUser
from gamestore.platform.http.openapi import problems
from gamestore.platform.http.params import PageNumber, PageSize
from gamestore.platform.http.state import state_of

router = APIRouter()


GamesDep = Annotated[GamesState, Depends(state_of(GamesState))]
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description='The `ETag` last read (`"<version>"`) or `*`; stale → 412.',
    ),
]


def _game(game: Game, response: Response) -> GamePublic:
    response.headers["ETag"] = etag(game.version)
    return GamePublic.model_validate(game.public())


@router.post(
    "/jogos", status_code=201, response_model=GamePublic, tags=["games"], responses=problems(409)
)
async def create_game(
    body: GameIn, _: AdminUser, state: GamesDep, response: Response
) -> GamePublic:
    """Add a game to the catalog (admin only). 409 if a listed game has the same title,
    regardless of case. The price is in cents of `BRL`, the only currency accepted."""
    game = await state.catalog.create(body.fields())
    response.headers["Location"] = f"/jogos/{game.id}"
    return _game(game, response)


@router.get("/jogos", response_model=GamePage, tags=["games"])
async def list_games(
    state: GamesDep,
    page: PageNumber = 1,
    size: PageSize = 20,
    title: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only games whose title contains this text (case ignored).",
        ),
    ] = None,
) -> GamePage:
    """The catalog: listed games in title order, a page at a time; `title` narrows it to the
    titles containing a text, at once after a write (unlike the search index, which follows
    the event log)."""
    items, total = await state.catalog.page(page, size, title)
    games = [GamePublic.model_validate(g.public()) for g in items]
    return GamePage(items=games, total=total, page=page, size=size)


@router.get("/jogos/{game_id}", response_model=GamePublic, tags=["games"])
async def get_game(game_id: str, state: GamesDep, response: Response) -> GamePublic:
    """One listed game, with its version as a strong `ETag`. 404 for unknown or delisted."""
    return _game(await state.catalog.get(game_id), response)


@router.put(
    "/jogos/{game_id}", response_model=GamePublic, tags=["games"], responses=problems(409, 412)
)
async def replace_game(
    game_id: str,
    body: GameIn,
    _: AdminUser,
    state: GamesDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> GamePublic:
    """Replace every field of a game (admin only); the version goes up by one. With
    `If-Match`, 412 unless it names the current version. 409 if the title is taken."""
    game = await state.catalog.replace(game_id, body.fields(), parse_if_match(if_match))
    return _game(game, response)


@router.delete("/jogos/{game_id}", status_code=204, tags=["games"])
async def delete_game(game_id: str, _: AdminUser, state: GamesDep) -> Response:
    """Delist a game (admin only): it leaves the catalog and search, and stays in the
    libraries of those who own it. 404 if it is unknown or already delisted."""
    await state.catalog.delist(game_id)
    return Response(status_code=204)


@router.get("/biblioteca", response_model=Library, tags=["library"])
async def my_library(principal: CurrentUser, state: GamesDep) -> Library:
    """The games the caller owns, delisted ones included, oldest acquisition first."""
    owned = await state.libraries.of(principal.user_id)
    return Library(
        items=[
            LibraryItem(
                game_id=o.game_id,
                title=o.title,
                acquired_at=o.acquired_at,
                order_id=o.order_id,
                cover=CoverPublic.model_validate(
                    cover_public(o.game_id, o.title, o.genres, o.cover)
                ),
            )
            for o in owned
        ]
    )
