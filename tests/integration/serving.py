"""An ASGI app served by the real ``platform.http.serve`` (uvicorn) on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gamestore.platform.http import serve
from tests.ports import free_port


@asynccontextmanager
async def serving(app: Any, ready: str = "/ok") -> AsyncIterator[str]:
    """``app`` served until the block ends; its base URL, once ``ready`` answers 200."""
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(200):
            try:
                if (await client.get(ready)).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.02)
    try:
        yield url
    finally:
        stop.set()
        await task
