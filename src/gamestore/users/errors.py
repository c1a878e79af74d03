"""Domain errors as problem+json responses (one table, so routes stay free of try/except)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gamestore.platform.http import problem_response
from gamestore.users.domain import (
    CurrentPasswordRequired,
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidRefreshToken,
    TooManyAttempts,
    UserNotFound,
    UsersError,
)

_BEARER = {"WWW-Authenticate": 'Bearer realm="gamestore"'}
_STATUS: dict[type[UsersError], tuple[int, str]] = {
    EmailTaken: (409, "An account with this email already exists."),
    UserNotFound: (404, "No such user."),
    Forbidden: (403, "Only an admin may change a role."),
    CurrentPasswordRequired: (403, "Changing your password needs your current password."),
    InvalidCredentials: (401, "The email or the password is wrong."),
    InvalidRefreshToken: (401, "The refresh token is invalid, expired or revoked."),
}


async def _on_users_error(_: Request, error: Exception) -> JSONResponse:
    if isinstance(error, TooManyAttempts):
        return problem_response(
            429,
            "Too many failed logins; try again in a moment.",
            headers={"Retry-After": str(error.retry_after)},
        )
    status, detail = next(
        (entry for kind, entry in _STATUS.items() if isinstance(error, kind)),
        (400, "The request cannot be processed."),
    )
    return problem_response(status, detail, headers=_BEARER if status == 401 else None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UsersError, _on_users_error)
