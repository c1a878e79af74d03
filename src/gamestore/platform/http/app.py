"""The app factory every service uses, and ``serve`` to run one until a stop event."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gamestore.platform.http.middleware import (
    SECURITY_HEADERS,
    BodyLimitMiddleware,
    RequestContextMiddleware,
    request_id_from,
)
from gamestore.platform.http.openapi import document_problems
from gamestore.platform.http.problems import (
    PROBLEM_JSON,
    UnexpectedErrors,
    install_problem_handlers,
)
from gamestore.platform.logs import correlation, get_logger

log = get_logger("http")


def create_app(
    title: str,
    routers: Sequence[APIRouter] = (),
    *,
    description: str = "",
    lifespan: Any = None,
    body_limit: int = 1024 * 1024,
) -> FastAPI:
    """A FastAPI app with problem+json errors, request ids and a body size limit."""
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    document_problems(app)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(BodyLimitMiddleware, limit=body_limit)
    app.add_middleware(RequestContextMiddleware)
    return app


class ProblemHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, except that a request it cannot parse (malformed, a URL or
    headers over the parser's limits) is answered like every other error: problem+json with an
    ``X-Request-ID`` (the client's, when its header was read before the error) and one log
    line under that id — not uvicorn's bare text/plain 400."""

    def send_400_response(self, msg: str) -> None:
        request_id = request_id_from(getattr(self, "headers", None) or [])
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "The request could not be read: it is malformed, or its URL or "
                "headers are too long.",
            }
        ).encode()
        head = [
            b"HTTP/1.1 400 Bad Request\r\n",
            b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"x-request-id: " + request_id.encode() + b"\r\n",
            *(name + b": " + value + b"\r\n" for name, value in SECURITY_HEADERS),
            b"connection: close\r\n\r\n",
        ]
        with correlation(request_id):
            log.warning("unreadable request refused", status=400, reason=msg)
        self.transport.write(b"".join(head) + body)
        self.transport.close()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process's ``stop`` event rules."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: Any, host: str, port: int, stop: asyncio.Event) -> None:
    """Run ``app`` with uvicorn until ``stop`` is set, then shut down gracefully."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        http=ProblemHttpProtocol,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
    if serving in done and not stop.is_set() and not server.started:
        raise RuntimeError(f"could not serve on {host}:{port}")
