"""RFC 9457 problem details: every error leaves as ``application/problem+json``.

Never a stack trace, never a 500 for bad input: validation errors become 422 with
``errors: [{loc, code, msg}]``, unknown routes 404, wrong methods 405. An outage of an engine the
service needs (its database, the event store, the broker, Redis: ``platform.faults``) is a 503
with ``Retry-After``, never a 500; anything else unexpected is a plain 500 whose details go to
the log only — answered by :class:`UnexpectedErrors` inside the request's context, so the
traceback's log line and the response carry the request id.

Every problem carries a stable ``code`` (``platform/http/codes.py``); its ``detail`` is an
English msgid translated into the request's language when the answer is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import aiormq.exceptions
import asyncpg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gamestore.platform.faults import OutageLog, TransientError, is_transient
from gamestore.platform.field_errors import field_errors
from gamestore.platform.http.codes import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    UNAVAILABLE,
    Problem,
    code_for_status,
    for_status,
)
from gamestore.platform.i18n import current_language, translate
from gamestore.platform.logs import get_logger

PROBLEM_JSON = "application/problem+json"
OUTAGE_RETRY_AFTER = "2"  # seconds a client should wait before retrying during an outage
QUIET = 10.0  # seconds without an engine failure after which an outage counts as over
log = get_logger("http")

# What an engine outage surfaces as. Starlette hands handlers of these classes to its
# ExceptionMiddleware, which answers and is done; a handler for plain ``Exception`` runs in
# ServerErrorMiddleware, which answers and then re-raises (a traceback per request).
ENGINE_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # ConnectionError, TimeoutError, refused connections
    TransientError,
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
)


class ProblemError(Exception):
    """Raise from a route or dependency to answer with a problem document: ``detail`` is the
    English msgid (translated when answered, ``params`` filling its placeholders); ``code``
    defaults to the status's general one."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or code_for_status(status)
        self.params = dict(params or {})
        self.title = title or HTTPStatus(status).phrase
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors is not None else None

    @classmethod
    def of(
        cls,
        problem: Problem,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        **params: Any,
    ) -> ProblemError:
        """The error of a declared kind of problem."""
        return cls(
            problem.status,
            problem.detail,
            code=problem.code,
            params=params,
            headers=headers,
            errors=errors,
        )


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    params: Mapping[str, Any] | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """The problem document, its ``detail`` translated into the request's language; ``extra``
    members (``order_id``) are added as they are."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code or code_for_status(status),
        "detail": translate(detail, params),
    }
    if errors is not None:
        body["errors"] = list(errors)
    body |= dict(extra or {})
    response = JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )
    # the detail is in the request's language: say which, and that caches must key on it
    response.headers["Content-Language"] = current_language().replace("_", "-")
    response.headers.add_vary_header("Accept-Language")
    return response


def answer(
    problem: Problem,
    *,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
    **params: Any,
) -> JSONResponse:
    """The response of a declared kind of problem."""
    return problem_response(
        problem.status,
        problem.detail,
        code=problem.code,
        params=params,
        headers=headers,
        errors=errors,
        extra=extra,
    )


async def _on_problem(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(
        error.status,
        error.detail,
        code=error.code,
        params=error.params,
        title=error.title,
        headers=error.headers,
        errors=error.errors,
    )


async def _on_validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return answer(INVALID_REQUEST, errors=field_errors(error.errors()))


async def _on_http(_: Request, error: Exception) -> JSONResponse:
    """Starlette's own 404/405 (and the body limit's 413) with our code and words."""
    assert isinstance(error, StarletteHTTPException)
    status, general = error.status_code, for_status(error.status_code)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(status).phrase
    if general is not None and detail == HTTPStatus(status).phrase:
        detail = general.detail
    params = getattr(error, "params", None)
    return problem_response(status, detail, params=params, headers=error.headers)


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    if is_transient(error):
        return _unavailable(request, error)
    log.exception("unhandled error", method=request.method, path=request.url.path)
    return answer(INTERNAL_ERROR)


def _unavailable(request: Request, error: Exception) -> JSONResponse:
    """503 + Retry-After. Logged when an outage starts and every 30 s while it lasts, not once
    per request; ``QUIET`` seconds without such a failure end it."""
    outage: OutageLog = request.app.state.engine_outage
    if outage.ongoing and outage.quiet_for() > QUIET:
        outage.recovered()
    outage.failed(error)
    return answer(UNAVAILABLE, headers={"Retry-After": OUTAGE_RETRY_AFTER})


class UnexpectedErrors:
    """The last resort, as the innermost middleware: an exception no handler took becomes the
    logged 500 problem (503 for an outage) while the request's correlation id is still in
    force. Starlette's own last resort runs outside every middleware, where the traceback would
    be logged with ``corr=-`` and the answer would lack its ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started:
                raise  # too late for another answer; the server closes the connection
            response = await _on_unexpected(Request(scope, receive), error)
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    app.state.engine_outage = OutageLog(f"{app.title}: an engine")
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    for kind in ENGINE_ERRORS:
        app.add_exception_handler(kind, _on_unexpected)
    app.add_exception_handler(Exception, _on_unexpected)
