"""Access through the gateway: 401/403 before any upstream sees the request, 404/405."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gamestore.platform.auth import AUDIENCE, ISSUER
from tests.integration.gateway.conftest import Keys, StartGateway, problem
from tests.integration.gateway.upstream import Echo


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/users/me"), ("GET", "/users"), ("POST", "/jogos/compra"), ("GET", "/admin/events")],
)
async def test_no_token_is_401_with_challenge(
    start_gateway: StartGateway, upstream: tuple[Echo, str], method: str, path: str
) -> None:
    echo, _ = upstream
    async with start_gateway() as client:
        response = await client.request(method, path)
    problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert echo.seen == []


@pytest.mark.parametrize(
    "authorization",
    ["Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a.b.c"],
)
async def test_bad_credentials_are_401(
    start_gateway: StartGateway, upstream: tuple[Echo, str], authorization: str
) -> None:
    echo, _ = upstream
    async with start_gateway() as client:
        response = await client.get("/users/me", headers={"Authorization": authorization})
    problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert echo.seen == []


async def test_expired_and_foreign_tokens_are_401(start_gateway: StartGateway, keys: Keys) -> None:
    now = int(time.time())
    claims = {"sub": "u", "role": "player", "iss": ISSUER, "aud": AUDIENCE, "jti": "j"}
    expired = jwt.encode(
        {**claims, "iat": now - 700, "exp": now - 60},
        keys.private,
        algorithm="EdDSA",
        headers={"kid": keys.kid},
    )
    other = Keys(Ed25519PrivateKey.generate(), keys.kid)  # another key, our kid
    async with start_gateway() as client:
        for token in (expired, other.token()):
            response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
            problem(response, 401)


async def test_unknown_kid_is_401(start_gateway: StartGateway, keys: Keys) -> None:
    stranger = Keys(Ed25519PrivateKey.generate(), "k-" + uuid.uuid4().hex[:8])
    async with start_gateway() as client:
        response = await client.get(
            "/users/me", headers={"Authorization": f"Bearer {stranger.token()}"}
        )
    problem(response, 401)


async def test_player_on_admin_route_is_403(
    start_gateway: StartGateway, upstream: tuple[Echo, str], keys: Keys
) -> None:
    echo, _ = upstream
    player = {"Authorization": f"Bearer {keys.token(role='player')}"}
    async with start_gateway() as client:
        for method, path in [("GET", "/users"), ("POST", "/jogos"), ("DELETE", "/admin/dlq/x")]:
            problem(await client.request(method, path, headers=player), 403)
    assert echo.seen == []


async def test_admin_passes_admin_routes_and_player_user_routes(
    start_gateway: StartGateway, keys: Keys
) -> None:
    admin = {"Authorization": f"Bearer {keys.token(role='admin')}"}
    player = {"Authorization": f"Bearer {keys.token(role='player')}"}
    async with start_gateway() as client:
        assert (await client.get("/users", headers=admin)).status_code == 200
        assert (await client.put("/jogos/g-1", headers=admin)).status_code == 200
        assert (await client.get("/biblioteca", headers=player)).status_code == 200
        assert (await client.post("/jogos/compra", headers=player)).status_code == 200


async def test_public_routes_need_no_token(start_gateway: StartGateway) -> None:
    async with start_gateway() as client:
        for method, path in [
            ("POST", "/users"),
            ("POST", "/login/auth"),
            ("GET", "/.well-known/jwks.json"),
            ("GET", "/jogos/busca?q=witcher"),
            ("POST", "/webhooks/psp"),
        ]:
            response = await client.request(method, path)
            assert response.status_code == 200, (method, path, response.text)


async def test_unknown_path_is_404_and_wrong_method_405(
    start_gateway: StartGateway, upstream: tuple[Echo, str]
) -> None:
    echo, _ = upstream
    async with start_gateway() as client:
        problem(await client.get("/internal/secrets"), 404)
        problem(await client.get("/jogos/..%2Fadmin%2Fevents"), 404)
        problem(await client.get("/jogos/%2e%2e/admin/events"), 404)
        problem(await client.get("/users/x/y"), 404)
        not_allowed = await client.delete("/login/auth")
        compra = await client.get("/jogos/compra")
    problem(not_allowed, 405)
    assert not_allowed.headers["allow"] == "POST"
    problem(compra, 405)  # never taken for a game id
    assert echo.seen == []
