"""A small driver over the games API, so tests read as what they check."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gamestore.games.bootstrap import GamesService
from gamestore.platform.auth import ALGORITHM, AUDIENCE, ISSUER, StaticKeys, TokenVerifier

KID = "games-test-key"


@dataclass
class Issuer:
    """Signs access tokens as the users service would; the service trusts its public key."""

    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def jwks(self) -> dict[str, Any]:
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": KID, "alg": ALGORITHM}
        return {"keys": [jwk]}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(StaticKeys(self.jwks()))

    def token(self, role: str, user_id: str | None = None, ttl: int = 300) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id or str(uuid.uuid4()),
            "role": role,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": KID})

    def headers(self, role: str, user_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, user_id)}"}


def game_body(title: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid POST/PUT body; ``overrides`` replace (or, with ``None``, drop) fields."""
    body: dict[str, Any] = {
        "title": title or f"Game {uuid.uuid4().hex[:8]}",
        "description": "Explore a vast world.",
        "genres": ["RPG", "Adventure"],
        "platforms": ["PC", "PS5"],
        "price_cents": 19990,
        "currency": "BRL",
        "release_date": "2015-05-19",
        "developer": "CD Projekt Red",
        "publisher": "CD Projekt",
        "tags": ["open world", "fantasy"],
    }
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


@dataclass
class GamesApi:
    client: httpx.AsyncClient
    service: GamesService
    issuer: Issuer

    @property
    def admin(self) -> dict[str, str]:
        return self.issuer.headers("admin")

    @property
    def player(self) -> dict[str, str]:
        return self.issuer.headers("player")

    async def create(self, title: str | None = None, **overrides: Any) -> dict[str, Any]:
        """POST /jogos as an admin; the created game (asserts 201)."""
        response = await self.client.post(
            "/jogos", json=game_body(title, **overrides), headers=self.admin
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def put(
        self, game_id: str, body: dict[str, Any], if_match: str | None = None
    ) -> httpx.Response:
        headers = dict(self.admin)
        if if_match is not None:
            headers["If-Match"] = if_match
        return await self.client.put(f"/jogos/{game_id}", json=body, headers=headers)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem+json document with ``status``; its body."""
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body
