"""argon2id parameters (what ADR 005 states), hashing, refresh-token hashing, token lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gamestore.platform.config import Settings
from gamestore.users.keys import KeyRing, signing_key
from gamestore.users.passwords import Argon2Parameters, Passwords, passwords_for
from gamestore.users.tokens import AccessTokens, hash_refresh_token, new_refresh_token


def test_production_parameters_are_rfc_9106_low_memory_as_the_adr_says() -> None:
    passwords = passwords_for(Settings())

    assert passwords.parameters == Argon2Parameters(
        time_cost=3, memory_cost_kib=65536, parallelism=4
    )
    assert passwords._dummy_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


async def test_hash_and_verify() -> None:
    passwords = Passwords(Argon2Parameters(1, 64, 1))

    hashed = await passwords.hash("s3cret-Passw0rd!")

    assert hashed.startswith("$argon2id$") and "s3cret" not in hashed
    assert await passwords.verify(hashed, "s3cret-Passw0rd!")
    assert not await passwords.verify(hashed, "s3cret-Passw0rd?")
    assert not await passwords.verify(None, "s3cret-Passw0rd!")
    assert not await passwords.verify("not a hash", "s3cret-Passw0rd!")


async def test_a_hash_with_older_parameters_needs_a_rehash() -> None:
    cheap, strong = Passwords(Argon2Parameters(1, 64, 1)), Passwords(Argon2Parameters(2, 128, 1))

    assert strong.needs_rehash(await cheap.hash("s3cret-Passw0rd!"))


def test_refresh_tokens_are_random_and_stored_as_sha256() -> None:
    now = datetime.now(UTC)
    first = new_refresh_token(None, now, timedelta(days=30))
    second = new_refresh_token(first.family_id, now, timedelta(days=30))

    assert first.token != second.token and len(first.token) >= 43
    assert first.token_hash == hash_refresh_token(first.token) and len(first.token_hash) == 64
    assert first.token not in first.token_hash
    assert second.family_id == first.family_id and first.expires_at == now + timedelta(days=30)


def test_access_tokens_live_at_most_fifteen_minutes() -> None:
    key = signing_key(Ed25519PrivateKey.generate())
    ring = KeyRing(key, (key,))
    with pytest.raises(ValueError):
        AccessTokens(ring, 901)

    token = AccessTokens(ring, 900).issue("user-1", "player", datetime.now(UTC))

    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["exp"] - int(claims["iat"]) == 900 == token.expires_in
    assert claims["iat"] == round(claims["iat"], 3)  # to the millisecond (revocations need it)
    assert jwt.get_unverified_header(token.token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}


def test_settings_refuse_longer_access_tokens() -> None:
    with pytest.raises(ValueError):
        Settings(access_token_ttl_seconds=3600)
