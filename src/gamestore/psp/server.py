"""The ``psp`` process: serves the simulator with uvicorn until the stop event is set."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn

from gamestore.psp import logs
from gamestore.psp.app import create_app
from gamestore.psp.settings import PspSettings


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the ``stop`` event rules."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def main(_settings: Any, stop: asyncio.Event) -> None:
    """Process entry point. The first argument (the store's Settings) is ignored on purpose:
    the PSP is an outside system and reads only its own ``PspSettings``."""
    settings = PspSettings()
    logs.configure(settings.log_dir, settings.log_level, console_level=settings.console_log_level)
    host, port = settings.listen
    await serve(settings, host, port, stop)


async def serve(settings: PspSettings, host: str, port: int, stop: asyncio.Event) -> None:
    """Run the PSP on ``host:port`` until ``stop`` is set, then shut down gracefully."""
    config = uvicorn.Config(
        create_app(settings),
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
        raise RuntimeError(f"could not serve the PSP on {host}:{port}")
    logs.info("psp stopped", host=host, port=port)
