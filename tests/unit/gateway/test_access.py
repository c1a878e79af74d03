"""Access decisions and the verified-token cache, with in-memory keys."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from gamestore.gateway.access import (
    BAD_TOKEN,
    MISSING_TOKEN,
    NOT_ADMIN,
    CachingVerifier,
    authorize,
    caller,
)
from gamestore.gateway.routes import Access
from gamestore.platform.auth import AUDIENCE, ISSUER, InvalidToken, Principal, StaticKeys
from gamestore.platform.auth import TokenVerifier as Verifier
from gamestore.platform.revocation import Revocations

PLAYER = Principal("u1", "player", "j1", 2**40)
ADMIN = Principal("u2", "admin", "j2", 2**40)
KEY = Ed25519PrivateKey.generate()
KID = "k1"


class CountingKeys(StaticKeys):
    """Static keys that count lookups (a lookup happens on every real verification)."""

    lookups = 0

    async def key(self, kid: str) -> Any:
        self.lookups += 1
        return await super().key(kid)


def keys() -> CountingKeys:
    jwk = json.loads(OKPAlgorithm.to_jwk(KEY.public_key()))
    return CountingKeys({"keys": [{**jwk, "kid": KID, "alg": "EdDSA"}]})


def token(exp_in: int = 600, role: str = "player") -> str:
    now = int(time.time())
    claims = {"sub": "u1", "role": role, "iss": ISSUER, "aud": AUDIENCE}
    claims |= {"iat": now, "exp": now + exp_in, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, KEY, algorithm="EdDSA", headers={"kid": KID})


@pytest.mark.parametrize(
    ("access", "principal", "expected"),
    [
        (Access.PUBLIC, None, None),
        (Access.PUBLIC, PLAYER, None),
        (Access.USER, None, MISSING_TOKEN),
        (Access.USER, PLAYER, None),
        (Access.USER, ADMIN, None),
        (Access.ADMIN, None, MISSING_TOKEN),
        (Access.ADMIN, PLAYER, NOT_ADMIN),
        (Access.ADMIN, ADMIN, None),
    ],
)
def test_authorize(access: Access, principal: Principal | None, expected: object) -> None:
    assert authorize(access, principal) == expected


def test_denials_carry_the_bearer_challenge() -> None:
    assert MISSING_TOKEN.status == BAD_TOKEN.status == 401
    assert BAD_TOKEN.headers["WWW-Authenticate"].startswith("Bearer")
    assert NOT_ADMIN.status == 403


async def test_caller_decisions() -> None:
    verifier = CachingVerifier(Verifier(keys()))
    assert await caller(Access.PUBLIC, "Bearer junk", verifier) is None  # not even looked at
    assert await caller(Access.USER, None, verifier) == MISSING_TOKEN
    assert await caller(Access.USER, "Basic abc", verifier) == MISSING_TOKEN
    assert await caller(Access.USER, "Bearer junk", verifier) == BAD_TOKEN
    assert await caller(Access.ADMIN, f"Bearer {token()}", verifier) == NOT_ADMIN
    who = await caller(Access.ADMIN, f"Bearer {token(role='admin')}", verifier)
    assert isinstance(who, Principal) and who.is_admin


async def test_a_good_token_is_verified_once() -> None:
    source = keys()
    verifier = CachingVerifier(Verifier(source))
    good = token()
    first = await verifier.verify(good)
    assert await verifier.verify(good) == first
    assert source.lookups == 1


async def test_a_cached_token_is_checked_again_once_past_its_exp() -> None:
    now = [time.time()]
    source = keys()
    verifier = CachingVerifier(Verifier(source), clock=lambda: now[0])
    short = token(exp_in=30)
    await verifier.verify(short)
    await verifier.verify(short)
    assert source.lookups == 1
    now[0] += 31  # past exp by the gateway's clock: the cache no longer vouches for it
    await verifier.verify(short)
    assert source.lookups == 2


async def test_failures_are_not_cached_and_the_cache_is_bounded() -> None:
    source = keys()
    verifier = CachingVerifier(Verifier(source), max_entries=10)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.verify(token(exp_in=-10))
    assert source.lookups == 2
    for _ in range(25):
        await verifier.verify(token())
    assert len(verifier._good) <= 10


async def test_a_cached_token_revoked_since_is_refused() -> None:
    """The cache spares the signature check, never the revocation check."""
    revocations = Revocations()
    verifier = CachingVerifier(Verifier(keys(), revocations=revocations))
    good = token()
    assert (await verifier.verify(good)).user_id == "u1"
    revocations.revoke("u1", time.time() + 1)  # e.g. the account was deleted just now
    with pytest.raises(InvalidToken, match="revoked"):
        await verifier.verify(good)
    revocations.revoke("u2", time.time() + 10)  # another account's revocation: no effect
    assert await Verifier(keys(), revocations=Revocations()).verify(good)
