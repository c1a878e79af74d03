"""Serve an ASGI app with uvicorn until a stop event: the store's services and the PSP
simulator both run this way.

The simulator plays another company and imports nothing of the store, so this module knows no
product: it imports asyncio, uvicorn and :mod:`gamestore.platform.waiting` (asyncio alone), and
sits directly in ``platform`` because the ``platform.http`` package loads the store's HTTP stack
(``tests/unit/platform/test_uvicorn_serving.py`` holds it to that)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn

from gamestore.platform.waiting import first_of


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process's ``stop`` event rules."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_until(app: Any, host: str, port: int, stop: asyncio.Event, **options: Any) -> None:
    """Run ``app`` on ``host:port`` until ``stop`` is set, then shut down gracefully (requests
    under way get five seconds). ``options`` are more of uvicorn's ``Config``. RuntimeError if
    the server ended by itself without having started (the port taken, say)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
        **options,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve())
    await first_of(asyncio.shield(serving), asyncio.ensure_future(stop.wait()))
    server.should_exit = True
    await serving
    if not stop.is_set() and not server.started:
        raise RuntimeError(f"could not serve on {host}:{port}")
