"""Domain errors as problem+json responses (one table, so routes stay free of try/except)."""

from __future__ import annotations

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
from gamestore.platform.http.codes import CANNOT_PROCESS, Problem, define
from gamestore.platform.http.problems import answer
from gamestore.platform.i18n import N_

ORDER_NOT_FOUND = define(404, "order_not_found", N_("No such order."))
_PROBLEMS: dict[type[GamesError], Problem] = {
    GameNotFound: define(404, "game_not_found", N_("No such game.")),
    TitleTaken: define(409, "title_taken", N_("A game with this title is already in the catalog.")),
    GameExists: define(409, "game_exists", N_("A game with this id exists already.")),
    PreconditionFailed: define(
        412,
        "game_version_mismatch",
        N_("The game changed since this version (If-Match); read it again."),
    ),
    VersionConflict: define(
        412,
        "game_write_conflict",
        N_("The game changed while this request was writing it; read it again."),
    ),
    OrderNotFound: ORDER_NOT_FOUND,
    AlreadyOwned: define(409, "already_owned", N_("This game is already in your library.")),
    PurchaseInProgress: define(
        409,
        "purchase_in_progress",
        N_(
            "A purchase of this game is already open: see its order (order_id), pay it again "
            "with POST /pagamento if it failed."
        ),
    ),
}


async def _on_games_error(_: Request, error: Exception) -> JSONResponse:
    problem = next(
        (entry for kind, entry in _PROBLEMS.items() if isinstance(error, kind)), CANNOT_PROCESS
    )
    if isinstance(error, PurchaseInProgress):  # the client needs the open order's id
        return answer(problem, extra={"order_id": error.order_id})
    return answer(problem)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GamesError, _on_games_error)
