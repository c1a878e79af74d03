"""Domain errors as problem+json responses (one table, so routes stay free of try/except)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gamestore.games.domain import (
    GameNotFound,
    GamesError,
    PreconditionFailed,
    TitleTaken,
    VersionConflict,
)
from gamestore.platform.http import problem_response

_STATUS: dict[type[GamesError], tuple[int, str]] = {
    GameNotFound: (404, "No such game."),
    TitleTaken: (409, "A game with this title is already in the catalog."),
    PreconditionFailed: (412, "The game changed since this version (If-Match); read it again."),
    VersionConflict: (412, "The game changed while this request was writing it; read it again."),
}


async def _on_games_error(_: Request, error: Exception) -> JSONResponse:
    status, detail = next(
        (entry for kind, entry in _STATUS.items() if isinstance(error, kind)),
        (400, "The request cannot be processed."),
    )
    return problem_response(status, detail)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GamesError, _on_games_error)
