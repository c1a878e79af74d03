"""The problems the API can answer, each with a stable machine-readable ``code``.

A client decides on ``code`` (snake_case, never changed once published); ``detail`` is for
people and follows ``Accept-Language``. Every kind of problem is declared once with
:func:`define` — its status, code and English detail, the catalog's msgid — so the list of
codes (``docs/errors.md``) is read from :data:`PROBLEMS` rather than kept by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from gamestore.platform.i18n import N_


@dataclass(frozen=True)
class Problem:
    """One kind of problem: ``detail`` is English and may name ``%(placeholders)s``."""

    status: int
    code: str
    detail: str


PROBLEMS: dict[str, Problem] = {}


def define(status: int, code: str, detail: str) -> Problem:
    """Declare a kind of problem (once per code: the same code always means the same thing)."""
    problem = Problem(status, code, detail)
    known = PROBLEMS.setdefault(code, problem)
    if known != problem:
        raise ValueError(f"problem code {code!r} is already defined as {known}")
    return problem


# What a status means when nothing more specific is known.
BAD_REQUEST = define(400, "bad_request", N_("The request is malformed."))
UNAUTHORIZED = define(401, "unauthorized", N_("A valid access token is required."))
FORBIDDEN = define(403, "forbidden", N_("You may not do this."))
NOT_FOUND = define(404, "not_found", N_("There is nothing at this path."))
METHOD_NOT_ALLOWED = define(405, "method_not_allowed", N_("This path does not accept that method."))
CONFLICT = define(409, "conflict", N_("The request conflicts with the current state."))
PRECONDITION_FAILED = define(
    412, "precondition_failed", N_("The resource changed since the version you sent.")
)
BODY_TOO_LARGE = define(
    413, "body_too_large", N_("The request body is larger than %(limit)s bytes.")
)
INVALID_REQUEST = define(422, "invalid_request", N_("The request is not valid."))
TOO_MANY_REQUESTS = define(429, "too_many_requests", N_("Too many requests; try again later."))
INTERNAL_ERROR = define(
    500, "internal_error", N_("Something went wrong on our side; it has been logged.")
)
UNAVAILABLE = define(
    503,
    "service_unavailable",
    N_("A service this request needs is unavailable right now; retry shortly."),
)
CANNOT_PROCESS = define(400, "cannot_process", N_("The request cannot be processed."))

_BY_STATUS = {
    problem.status: problem
    for problem in (
        BAD_REQUEST,
        UNAUTHORIZED,
        FORBIDDEN,
        NOT_FOUND,
        METHOD_NOT_ALLOWED,
        CONFLICT,
        PRECONDITION_FAILED,
        BODY_TOO_LARGE,
        INVALID_REQUEST,
        TOO_MANY_REQUESTS,
        INTERNAL_ERROR,
        UNAVAILABLE,
    )
}


def code_for_status(status: int) -> str:
    """The code of a problem raised without one: the status's general meaning."""
    known = _BY_STATUS.get(status)
    return known.code if known is not None else f"http_{status}"


def for_status(status: int) -> Problem | None:
    return _BY_STATUS.get(status)
