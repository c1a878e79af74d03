"""Login, access tokens, refresh rotation with reuse detection, logout, login throttling."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import jwt

from gamestore.platform.auth import AUDIENCE, ISSUER, StaticKeys, TokenVerifier
from gamestore.users.bootstrap import build
from tests.integration.users.conftest import SettingsFactory
from tests.integration.users.support import PASSWORD, UsersApi, bearer, new_email


async def test_login_returns_a_short_lived_eddsa_token_and_a_refresh_token(api: UsersApi) -> None:
    user = await api.register()

    response = await api.login(user["email"].upper())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"] == api.service.keys.signing.kid
    jwks = (await api.client.get("/.well-known/jwks.json")).json()
    principal = await TokenVerifier(StaticKeys(jwks)).verify(body["access_token"])
    assert principal.user_id == user["id"] and principal.role == "player"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"sub", "role", "iss", "aud", "exp", "iat", "jti"} <= set(claims)
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert 0 < claims["exp"] - claims["iat"] <= 900 and abs(claims["iat"] - time.time()) < 5
    assert len(body["refresh_token"]) >= 43


async def test_unknown_email_and_wrong_password_get_the_same_401(api: UsersApi) -> None:
    user = await api.register()

    wrong_password = await api.login(user["email"], "Wr0ng-password")
    unknown_email = await api.login(new_email(), PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert "www-authenticate" in wrong_password.headers


async def test_unknown_email_costs_a_hash_like_a_wrong_password(
    make_settings: SettingsFactory,
) -> None:
    """Timing: with a deliberately slow hash, both failures take about the hash's time."""
    slow = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 32768, "argon2_parallelism": 1}
    async with build(make_settings(**slow)) as service:
        accounts, sessions = service.accounts, service.sessions
        email = new_email()
        await accounts.register("Ada", email, PASSWORD)

        async def elapsed(login_email: str) -> float:
            started = time.perf_counter()
            with contextlib.suppress(Exception):
                await sessions.login(login_email, "Wr0ng-password")
            return time.perf_counter() - started

        # The minimum of a few runs is the cost without scheduling noise from a busy machine;
        # skipping the dummy hash would make the unknown email ~30x cheaper.
        known = min([await elapsed(email) for _ in range(5)])
        unknown = min([await elapsed(new_email()) for _ in range(5)])
    assert unknown > 0.3 * known and known > 0.3 * unknown, (known, unknown)


async def test_refresh_rotates_and_the_old_token_is_dead(api: UsersApi) -> None:
    player = await api.player()

    first = await api.refresh(player.refresh_token)

    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != player.refresh_token
    me = await api.client.get("/users/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    second = await api.refresh(pair["refresh_token"])
    assert second.status_code == 200


async def test_reusing_a_rotated_token_revokes_the_whole_family(api: UsersApi) -> None:
    player = await api.player()
    other_login = (await api.login(player.email)).json()["refresh_token"]
    rotated = (await api.refresh(player.refresh_token)).json()["refresh_token"]

    reuse = await api.refresh(player.refresh_token)

    assert reuse.status_code == 401
    assert (await api.refresh(rotated)).status_code == 401  # the thief's successor dies too
    assert (await api.refresh(other_login)).status_code == 200  # another login is untouched


async def test_concurrent_refreshes_of_one_token_let_at_most_one_through(api: UsersApi) -> None:
    player = await api.player()

    responses = await asyncio.gather(*(api.refresh(player.refresh_token) for _ in range(5)))

    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) <= 1
    assert all(r.status_code in (200, 401) for r in responses)


async def test_logout_revokes_the_family_and_is_always_204(api: UsersApi) -> None:
    player = await api.player()
    rotated = (await api.refresh(player.refresh_token)).json()["refresh_token"]

    out = await api.client.post("/login/logout", json={"refresh_token": player.refresh_token})
    unknown = await api.client.post("/login/logout", json={"refresh_token": "nonsense"})

    assert out.status_code == unknown.status_code == 204
    assert (await api.refresh(rotated)).status_code == 401


async def test_garbage_and_expired_refresh_tokens_are_401(
    api: UsersApi, make_settings: SettingsFactory
) -> None:
    assert (await api.refresh("x" * 43)).status_code == 401
    async with build(make_settings(refresh_token_ttl_seconds=60)) as service:
        email = new_email()
        await service.accounts.register("Ada", email, PASSWORD)
        tokens = await service.sessions.login(email, PASSWORD)
        service.sessions._refresh_ttl = -service.sessions._refresh_ttl  # already expired
        expired = await service.sessions.login(email, PASSWORD)
    assert (await api.refresh(expired.refresh_token)).status_code == 401
    assert tokens.refresh_token != expired.refresh_token


async def test_five_failures_then_429_with_retry_after(api: UsersApi) -> None:
    user = await api.register()
    for _ in range(5):
        assert (await api.login(user["email"], "Wr0ng-password")).status_code == 401

    blocked = await api.login(user["email"])  # even the right password waits now
    email = new_email()
    unknown = [await api.login(email, "Wr0ng-password") for _ in range(6)][-1]

    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 900
    assert unknown.status_code == 429  # unknown emails are throttled alike (no enumeration)
    assert (await api.login(email.upper(), "Wr0ng-password")).status_code == 429
    assert (await api.login(new_email())).status_code == 401  # other emails are unaffected


async def test_a_success_clears_earlier_failures(api: UsersApi) -> None:
    user = await api.register()
    for _ in range(4):
        await api.login(user["email"], "Wr0ng-password")
    assert (await api.login(user["email"])).status_code == 200

    for _ in range(4):
        assert (await api.login(user["email"], "Wr0ng-password")).status_code == 401
    assert (await api.login(user["email"])).status_code == 200


async def test_the_redis_throttle_is_used_when_configured(
    make_settings: SettingsFactory, redis_url: str
) -> None:
    email = new_email()
    async with build(make_settings(redis_url=redis_url)) as service:
        await service.accounts.register("Ada", email, PASSWORD)
        throttle = service.sessions._throttle
        try:
            for _ in range(5):
                await _fails(service.sessions.login(email, "Wr0ng-password"))
            async with build(make_settings(redis_url=redis_url)) as second_process:
                error = await _fails(second_process.sessions.login(email, PASSWORD))
        finally:
            await throttle.forget(f"{email}|-")
            await service.sessions._clients.forget("-")  # type: ignore[union-attr]
    assert type(error).__name__ == "TooManyAttempts"


async def _fails(call: object) -> Exception:
    try:
        await call  # type: ignore[misc]
    except Exception as error:
        return error
    raise AssertionError("expected a failure")


@asynccontextmanager
async def client_at(api: UsersApi, address: str) -> AsyncIterator[UsersApi]:
    """The same users service, called from another client address."""
    transport = httpx.ASGITransport(app=api.service.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
        yield UsersApi(client, api.service)


async def test_an_attacker_s_failures_do_not_lock_the_owner_out(api: UsersApi) -> None:
    """Lockout as a weapon: five wrong passwords from one client slow that client down for that
    account, not the owner logging in from elsewhere."""
    user = await api.register()
    async with client_at(api, "203.0.113.9") as attacker, client_at(api, "198.51.100.7") as owner:
        for _ in range(5):
            assert (await attacker.login(user["email"], "Wr0ng-password")).status_code == 401
        slowed = await attacker.login(user["email"])
        assert slowed.status_code == 429 and slowed.headers["retry-after"] == "1"
        assert (await owner.login(user["email"])).status_code == 200


async def test_the_delay_grows_and_ends(api: UsersApi) -> None:
    """Progressive, not a 15-minute wall: the wait doubles with each failure, and once it has
    passed the right password works."""
    user = await api.register()
    async with client_at(api, "203.0.113.10") as attacker:
        for _ in range(5):
            await attacker.login(user["email"], "Wr0ng-password")
        first = await attacker.login(user["email"], "Wr0ng-password")
        assert (first.status_code, first.headers["retry-after"]) == (429, "1")
        await asyncio.sleep(1.05)
        assert (await attacker.login(user["email"], "Wr0ng-password")).status_code == 401
        second = await attacker.login(user["email"])
        assert (second.status_code, second.headers["retry-after"]) == (429, "2")
        await asyncio.sleep(2.05)
        assert (await attacker.login(user["email"])).status_code == 200


async def test_password_spraying_from_one_client_is_slowed_down(api: UsersApi) -> None:
    """One wrong guess at each of twenty accounts: the client is slowed on every account,
    including ones it never tried, and other clients are not."""
    victims = [new_email() for _ in range(21)]
    async with client_at(api, "203.0.113.11") as sprayer, client_at(api, "198.51.100.8") as other:
        for email in victims[:20]:
            assert (await sprayer.login(email, "Summer2026!")).status_code == 401
        refused = await sprayer.login(victims[20], "Summer2026!")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        user = await other.register()
        assert (await other.login(user["email"])).status_code == 200


async def test_successful_logins_from_one_client_are_never_slowed(api: UsersApi) -> None:
    """Many people behind one address (an office, a NAT) logging in correctly: no delay."""
    users = [await api.register() for _ in range(25)]
    async with client_at(api, "203.0.113.12") as office:
        for user in users:
            assert (await office.login(user["email"])).status_code == 200
