"""The app factory every service uses, and ``serve`` to run one until a stop event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import httptools
from fastapi import APIRouter, FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gamestore.platform import tracing
from gamestore.platform.config import bind_host
from gamestore.platform.http.codes import Problem, define
from gamestore.platform.http.middleware import (
    SECURITY_HEADERS,
    BodyLimitMiddleware,
    LanguageMiddleware,
    LargerBody,
    RequestContextMiddleware,
    request_id_from,
)
from gamestore.platform.http.openapi import document_problems
from gamestore.platform.http.ops import OpsEndpoints
from gamestore.platform.http.problems import (
    PROBLEM_JSON,
    UnexpectedErrors,
    install_problem_handlers,
)
from gamestore.platform.i18n import N_, negotiate, translate
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.uvicorn_serving import serve_until

log = get_logger("http")


def create_app(
    title: str,
    routers: Sequence[APIRouter] = (),
    *,
    description: str = "",
    lifespan: Any = None,
    body_limit: int = 1024 * 1024,
    larger_bodies: Sequence[LargerBody] = (),
) -> FastAPI:
    """A FastAPI app with problem+json errors in the request's language, request ids, a body
    size limit (wider on the routes of ``larger_bodies``), and the process's ``/healthz``,
    ``/readyz`` and ``/metrics`` in front (``platform/http/ops.py``)."""
    app = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan,
        telemetry=tracing.fastapi_telemetry(),
    )  # fmt: skip
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    document_problems(app)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(BodyLimitMiddleware, limit=body_limit, larger=larger_bodies)
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(RequestContextMiddleware)
    if tracing.propagation_only():
        app.add_middleware(tracing.Propagation)
    app.add_middleware(OpsEndpoints)
    return app


URL_MAX = 16 * 1024  # bytes of request target; our longest valid query is under half of it
HEADERS_MAX = 32 * 1024  # bytes of all header names and values; a token is under 1 KiB
HEAD_MAX = 2 * (URL_MAX + HEADERS_MAX)  # bytes read with the head still incomplete, at most
LINGER = 2.0  # seconds a refused client's remaining bytes are read and dropped before closing
URL_TOO_LONG = define(414, "url_too_long", N_("The URL is longer than %(limit)s bytes."))
HEADERS_TOO_LARGE = define(
    431, "headers_too_large", N_("The headers are larger than %(limit)s bytes together.")
)
UNREADABLE = define(
    400, "unreadable_request", N_("The request could not be read: it is not valid HTTP/1.1.")
)


class _Refused(httptools.HttpParserError):
    """Raised from a parser callback: uvicorn answers it through ``send_400_response``."""


class ProblemHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, except that a request it cannot read is answered like every
    other error: problem+json with an ``X-Request-ID`` (the client's, when its header was read
    before the error) and one log line under that id — not uvicorn's bare text/plain 400.

    It also bounds what a client may make it hold before the app sees the request: a URL over
    ``URL_MAX`` bytes is 414, headers over ``HEADERS_MAX`` bytes together are 431 (httptools
    itself has no header limit: it would buffer a 10 MB header whole)."""

    _refusal: tuple[Problem, int] | None = None
    _header_bytes = 0
    _head_bytes = 0  # read in chunks that all fell inside one incomplete head
    _heads = 0  # heads read whole so far on this connection
    _in_body = False
    _lingering = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refusal, self._header_bytes = None, 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)  # called per chunk for a long URL, so this refuses as it arrives
        if len(self.url) > URL_MAX:
            self._refuse(URL_TOO_LONG, URL_MAX)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > HEADERS_MAX:
            self._refuse(HEADERS_TOO_LARGE, HEADERS_MAX)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_body, self._head_bytes, self._heads = True, 0, self._heads + 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        in_head, heads = not self._in_body, self._heads
        super().data_received(data)
        if in_head and self._heads == heads and not self._lingering:
            # the whole chunk went to a head still incomplete: a header still arriving, which
            # httptools hands over only once it is whole, so on_header cannot bound it
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_MAX:
                self._refusal = (HEADERS_TOO_LARGE, HEADERS_MAX)
                self.send_400_response("request head too large")

    def _refuse(self, problem: Problem, limit: int) -> None:
        self._refusal = (problem, limit)
        raise _Refused(problem.code)

    def send_400_response(self, msg: str) -> None:
        problem, limit = self._refusal or (UNREADABLE, 0)
        headers = getattr(self, "headers", None) or []
        request_id = request_id_from(headers)
        status, phrase = problem.status, HTTPStatus(problem.status).phrase
        wanted = next((v for k, v in headers if k.lower() == b"accept-language"), b"")
        detail = translate(
            problem.detail, {"limit": limit}, language=negotiate(wanted.decode("latin-1"))
        )
        body = json.dumps(
            {"type": "about:blank", "title": phrase, "status": status, "code": problem.code}
            | {"detail": detail}
        ).encode()
        head = [
            f"HTTP/1.1 {status} {phrase}\r\n".encode(),
            b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"x-request-id: " + request_id.encode() + b"\r\n",
            *(name + b": " + value + b"\r\n" for name, value in SECURITY_HEADERS),
            b"connection: close\r\n\r\n",
        ]
        with correlation(request_id):
            log.warning("unreadable request refused", status=status, reason=msg)
        self.transport.write(b"".join(head) + body)
        self._linger()

    def _linger(self) -> None:
        """Close after the answer, reading and dropping what the client is still sending for
        a moment: closing on unread data resets the connection, and a client mid-upload would
        lose the answer."""
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self._lingering = True
        self.transport.write_eof()
        self.loop.call_later(LINGER, self.transport.close)


async def serve(app: Any, host: str, port: int, stop: asyncio.Event) -> None:
    """Run ``app`` with uvicorn until ``stop`` is set, then shut down gracefully. The host
    is ``GAMESTORE_BIND_HOST`` when that is set (a container binds every interface); requests
    uvicorn cannot read are answered in problem+json (:class:`ProblemHttpProtocol`)."""
    await serve_until(app, bind_host(host), port, stop, http=ProblemHttpProtocol)
