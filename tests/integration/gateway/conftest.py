"""Gateway fixtures: the real gateway app served by uvicorn in front of echo upstreams."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from gamestore.gateway.bootstrap import build_app, build_gateway
from gamestore.gateway.ratelimit import RateLimiter
from gamestore.platform.auth import AUDIENCE, ISSUER
from gamestore.platform.config import Settings
from gamestore.platform.http import serve
from tests.integration.gateway.upstream import Echo
from tests.ports import free_port


async def _port_answers(port: int, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.01)


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """``app`` on a free port with uvicorn until the block ends; yields its base URL."""
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, "127.0.0.1", port, stop))
    await _port_answers(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await task


@dataclass
class Keys:
    """A users-like signing key: its JWKS and a token minter."""

    private: Ed25519PrivateKey
    kid: str

    @property
    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def token(self, sub: str = "user-1", role: str = "player", ttl: int = 600) -> str:
        now = int(time.time())
        claims = {
            "sub": sub,
            "role": role,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})


@pytest.fixture
def keys() -> Keys:
    return Keys(Ed25519PrivateKey.generate(), "k-" + uuid.uuid4().hex[:8])


@pytest.fixture
async def upstream(keys: Keys) -> AsyncIterator[tuple[Echo, str]]:
    """One echo upstream standing in for every service (users also serves the JWKS)."""
    echo = Echo(jwks=keys.jwks)
    async with served(echo) as url:
        yield echo, url


def test_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "gateway_client_rate": 1000.0,
        "gateway_client_burst": 1000,
        "gateway_user_rate": 1000.0,
        "gateway_user_burst": 1000,
        "gateway_upstream_timeout": 5.0,
        **overrides,
    }
    return Settings(**values)


StartGateway = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def start_gateway(upstream: tuple[Echo, str], monkeypatch: pytest.MonkeyPatch) -> StartGateway:
    """Start a gateway (settings overrides as keywords) in front of ``upstream``; yields a client.

    ``services={"games": url}`` points single services elsewhere; ``limiter`` and
    ``readiness`` go to ``build_gateway``.
    """
    _, url = upstream

    @asynccontextmanager
    async def start(
        *,
        services: dict[str, str] | None = None,
        limiter: RateLimiter | None = None,
        readiness: list[str] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[httpx.AsyncClient]:
        for name in ("users", "games", "payments"):
            monkeypatch.setenv(f"GAMESTORE_{name.upper()}_URL", (services or {}).get(name, url))
        settings = test_settings(**overrides)
        gateway = build_gateway(settings, limiter=limiter, readiness=readiness)
        async with (
            served(build_app(settings, gateway)) as base,
            httpx.AsyncClient(base_url=base, timeout=10) as client,
        ):
            yield client

    return start


def closed_port_url() -> str:
    """A URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert ``response`` is a problem+json with ``status``; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body
