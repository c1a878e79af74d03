"""Domain errors as problem+json responses (one table, so routes stay free of try/except)."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gamestore.games.domain import (
    AlreadyOwned,
    GameExists,
    GameNotFound,
    GamesError,
    OrderNotFound,
    PreconditionFailed,
    PurchaseInProgress,
    TitleTaken,
    VersionConflict,
)
from gamestore.platform.http import problem_response
from gamestore.platform.http.problems import PROBLEM_JSON

_STATUS: dict[type[GamesError], tuple[int, str]] = {
    GameNotFound: (404, "No such game."),
    TitleTaken: (409, "A game with this title is already in the catalog."),
    GameExists: (409, "A game with this id exists already."),
    PreconditionFailed: (412, "The game changed since this version (If-Match); read it again."),
    VersionConflict: (412, "The game changed while this request was writing it; read it again."),
    OrderNotFound: (404, "No such order."),
    AlreadyOwned: (409, "This game is already in your library."),
    PurchaseInProgress: (
        409,
        "A purchase of this game is already open: see its order (order_id), pay it again with "
        "POST /pagamento if it failed.",
    ),
}


async def _on_games_error(_: Request, error: Exception) -> JSONResponse:
    status, detail = next(
        (entry for kind, entry in _STATUS.items() if isinstance(error, kind)),
        (400, "The request cannot be processed."),
    )
    if isinstance(error, PurchaseInProgress):  # the client needs the open order's id
        body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
        body |= {"detail": detail, "order_id": error.order_id}
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
    return problem_response(status, detail)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GamesError, _on_games_error)
