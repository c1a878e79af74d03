"""Access tokens (EdDSA JWTs, short-lived) and refresh tokens (opaque, stored only hashed)."""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from gamestore.platform.auth import ALGORITHM, AUDIENCE, ISSUER
from gamestore.users.keys import KeyRing

REFRESH_TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int


class AccessTokens:
    """Signs access tokens with the newest key of the ring; ``kid`` in the header."""

    def __init__(self, keys: KeyRing, ttl_seconds: int) -> None:
        if not 0 < ttl_seconds <= 900:
            raise ValueError("access tokens live at most 15 minutes")
        self._keys = keys
        self._ttl = ttl_seconds

    def issue(self, user_id: str, role: str, now: datetime) -> AccessToken:
        claims = {
            "sub": user_id,
            "role": role,
            "iss": ISSUER,
            "aud": AUDIENCE,
            # to the millisecond: a token issued just after a revocation is not caught by it
            "iat": math.floor(now.timestamp() * 1000) / 1000,
            "exp": int(now.timestamp()) + self._ttl,
            "jti": str(uuid.uuid4()),
        }
        signing = self._keys.signing
        token = jwt.encode(
            claims, signing.private_key, algorithm=ALGORITHM, headers={"kid": signing.kid}
        )
        return AccessToken(token, self._ttl)


@dataclass(frozen=True, slots=True)
class NewRefreshToken:
    """A refresh token as handed to the client once; only ``token_hash`` is stored."""

    token: str
    token_hash: str
    family_id: str
    expires_at: datetime


def hash_refresh_token(token: str) -> str:
    """SHA-256 suffices: the token has 256 random bits, there is nothing to brute-force."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_refresh_token(family_id: str | None, now: datetime, ttl: timedelta) -> NewRefreshToken:
    """A fresh token, in ``family_id`` (a rotation) or in a new family (a login)."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return NewRefreshToken(
        token, hash_refresh_token(token), family_id or str(uuid.uuid4()), now + ttl
    )
