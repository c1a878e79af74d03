"""The JWKS client: cached keys, rate-limited refetch on unknown kids, survives a down server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from gamestore.platform.auth import JwksClient


def public_jwk(kid: str) -> dict[str, str]:
    jwk: dict[str, str] = json.loads(OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate().public_key()))
    return {**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"}


class JwksServer:
    def __init__(self) -> None:
        self.keys = [public_jwk("k1")]
        self.hits = 0
        self.failing = False
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, _: web.Request) -> web.Response:
        self.hits += 1
        if self.failing:
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response({"keys": self.keys})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}/.well-known/jwks.json"

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[JwksServer]:
    server = JwksServer()
    await server.start()
    yield server
    await server.stop()


async def test_known_kids_are_served_from_the_cache(server: JwksServer) -> None:
    client = JwksClient(server.url)
    assert await client.key("k1") is not None
    for _ in range(20):
        assert await client.key("k1") is not None
    assert server.hits == 1


async def test_a_flood_of_unknown_kids_refetches_at_most_once_per_interval(
    server: JwksServer,
) -> None:
    client = JwksClient(server.url, min_refresh=30)
    await client.key("k1")
    results = await asyncio.gather(*(client.key(f"forged-{n}") for n in range(50)))
    assert results == [None] * 50
    assert server.hits == 1


async def test_a_rotated_in_key_is_found_after_the_interval(server: JwksServer) -> None:
    client = JwksClient(server.url, min_refresh=0.2)
    await client.key("k1")
    server.keys.append(public_jwk("k2"))
    await asyncio.sleep(0.25)
    assert await client.key("k2") is not None
    assert server.hits == 2


async def test_a_failing_server_is_retried_soon_but_not_on_every_request(
    server: JwksServer,
) -> None:
    server.failing = True
    client = JwksClient(server.url, min_refresh=30)
    for _ in range(20):  # one attempt, not one per request, while it fails
        assert await client.key("k1") is None
    assert server.hits == 1

    server.failing = False
    await asyncio.sleep(1.1)
    assert await client.key("k1") is not None
    assert server.hits == 2


async def test_an_unreachable_server_answers_none_quickly() -> None:
    client = JwksClient("http://127.0.0.1:9/.well-known/jwks.json", timeout=0.5)
    assert await asyncio.wait_for(client.key("k1"), 2) is None
