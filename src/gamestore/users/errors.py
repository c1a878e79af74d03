"""Domain errors as problem+json responses (one table, so routes stay free of try/except)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gamestore.platform.field_errors import message
from gamestore.platform.http.codes import CANNOT_PROCESS, Problem, define
from gamestore.platform.http.problems import answer
from gamestore.platform.i18n import N_
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
EMAIL_TAKEN = define(409, "email_taken", N_("An account with this email already exists."))
TOO_MANY_LOGINS = define(
    429, "too_many_login_attempts", N_("Too many failed logins; try again in a moment.")
)
_PROBLEMS: dict[type[UsersError], Problem] = {
    EmailTaken: EMAIL_TAKEN,
    UserNotFound: define(404, "user_not_found", N_("No such user.")),
    Forbidden: define(403, "role_change_forbidden", N_("Only an admin may change a role.")),
    CurrentPasswordRequired: define(
        403,
        "current_password_required",
        N_("Changing your password needs your current password."),
    ),
    InvalidCredentials: define(
        401, "invalid_credentials", N_("The email or the password is wrong.")
    ),
    InvalidRefreshToken: define(
        401, "invalid_refresh_token", N_("The refresh token is invalid, expired or revoked.")
    ),
}
# the field a problem is about, so that a form shows it next to that field
_FIELD = {EMAIL_TAKEN.code: ("body", "email")}


async def _on_users_error(_: Request, error: Exception) -> JSONResponse:
    if isinstance(error, TooManyAttempts):
        return answer(TOO_MANY_LOGINS, headers={"Retry-After": str(error.retry_after)})
    problem = next(
        (entry for kind, entry in _PROBLEMS.items() if isinstance(error, kind)), CANNOT_PROCESS
    )
    field = _FIELD.get(problem.code)
    errors = None
    if field is not None:
        errors = [{"loc": list(field), "code": problem.code, "msg": message(problem.code)}]
    return answer(problem, headers=_BEARER if problem.status == 401 else None, errors=errors)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UsersError, _on_users_error)
