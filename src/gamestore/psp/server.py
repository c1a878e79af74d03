"""The ``psp`` process: serves the simulator with uvicorn until the stop event is set.

Of the store's code it uses only ``platform.uvicorn_serving``, which knows no product (a real
provider's server would be its own; the simulator borrows the generic serving loop)."""

from __future__ import annotations

import asyncio
from typing import Any

from gamestore.platform.uvicorn_serving import serve_until
from gamestore.psp import logs
from gamestore.psp.app import create_app
from gamestore.psp.settings import PspSettings


async def main(_settings: Any, stop: asyncio.Event) -> None:
    """Process entry point. The first argument (the store's Settings) is ignored on purpose:
    the PSP is an outside system and reads only its own ``PspSettings``."""
    settings = PspSettings()
    logs.configure(settings.log_dir, settings.log_level, console_level=settings.console_log_level)
    host, port = settings.listen
    await serve(settings, host, port, stop)


async def serve(settings: PspSettings, host: str, port: int, stop: asyncio.Event) -> None:
    """Run the PSP on ``host:port`` until ``stop`` is set, then shut down gracefully."""
    await serve_until(create_app(settings), host, port, stop)
    logs.info("psp stopped", host=host, port=port)
