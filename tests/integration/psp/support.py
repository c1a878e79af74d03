"""Drivers for the PSP tests: the app with its lifespan running, and a webhook receiver."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from gamestore.psp.app import create_app
from gamestore.psp.settings import PspSettings

VISA = "pm_card_visa"


def charge_body(payment_method: str = VISA, **overrides: Any) -> dict[str, Any]:
    body = {
        "amount_cents": 5990,
        "currency": "BRL",
        "payment_method": payment_method,
        "payment_id": str(uuid.uuid4()),
    }
    return {**body, **overrides}


@asynccontextmanager
async def running_psp(settings: PspSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The PSP app with its background tasks running, and a client for it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": f"Bearer {settings.secret_api_key()}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://psp", headers=auth
        ) as client:
            yield client


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A webhook endpoint that answers ``statuses`` in turn, then 204 forever."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        status = self.statuses.pop(0) if self.statuses else 204
        body = await request.read()
        self.received.append(Received(dict(request.headers), body, status))
        return web.Response(status=status)


@asynccontextmanager
async def receiver(statuses: list[int] | None = None) -> AsyncIterator[Receiver]:
    """A real HTTP server on a free port collecting webhooks."""
    hook = Receiver(list(statuses or []))
    app = web.Application()
    app.router.add_post("/webhooks/psp", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    hook.url = f"http://{host}:{port}/webhooks/psp"
    try:
        yield hook
    finally:
        await runner.cleanup()


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def webhooks(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/_sim/webhooks")
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows
