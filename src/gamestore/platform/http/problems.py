"""RFC 9457 problem details: every error leaves as ``application/problem+json``.

Never a stack trace, never a 500 for bad input: validation errors become 422 with
``errors: [{loc, msg}]``, unknown routes 404, wrong methods 405, anything unexpected a plain 500
whose details go to the log only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gamestore.platform.logs import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger("http")


class ProblemError(Exception):
    """Raise from a route or dependency to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors is not None else None


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg", ""))}
        for item in error.errors()
    ]


async def _on_problem(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(
        error.status, error.detail, title=error.title, headers=error.headers, errors=error.errors
    )


async def _on_validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return problem_response(422, "The request is not valid.", errors=_validation_errors(error))


async def _on_http(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem_response(error.status_code, detail, headers=error.headers)


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", method=request.method, path=request.url.path)
    return problem_response(500, "Something went wrong on our side; it has been logged.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
