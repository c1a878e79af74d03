"""The app factory every service uses, and ``serve`` to run one until a stop event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI

from gamestore.platform.http.middleware import BodyLimitMiddleware, RequestContextMiddleware
from gamestore.platform.http.problems import install_problem_handlers


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
    app.add_middleware(BodyLimitMiddleware, limit=body_limit)
    app.add_middleware(RequestContextMiddleware)
    return app


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
