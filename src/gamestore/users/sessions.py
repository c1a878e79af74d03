"""Login, refresh-token rotation with reuse detection, logout.

A login opens a refresh-token *family*. Each refresh consumes the presented token and issues the
next one in the family. Presenting a token that was already consumed means two parties hold the
same family (a stolen token): the whole family is revoked, so the thief and the victim both have
to log in again (OAuth 2.0 Security BCP, refresh token rotation).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.db import read_only
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import LOGINS
from gamestore.users import repository as repo
from gamestore.users.domain import (
    InvalidCredentials,
    InvalidRefreshToken,
    TooManyAttempts,
    User,
    normalize_email,
)
from gamestore.users.passwords import Passwords
from gamestore.users.tables import users
from gamestore.users.throttle import LoginThrottle
from gamestore.users.tokens import (
    AccessToken,
    AccessTokens,
    NewRefreshToken,
    hash_refresh_token,
    new_refresh_token,
)

log = get_logger("users.sessions")


@dataclass(frozen=True, slots=True)
class Tokens:
    access: AccessToken
    refresh_token: str


def _now() -> datetime:
    return datetime.now(UTC)


def _email_ref(email: str) -> str:
    """A stable, non-reversible reference to an email for the logs."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:12]


class Sessions:
    def __init__(
        self,
        engine: AsyncEngine,
        passwords: Passwords,
        access_tokens: AccessTokens,
        throttle: LoginThrottle,
        refresh_ttl: timedelta,
        clients: LoginThrottle | None = None,
    ) -> None:
        self._engine = engine
        self._passwords = passwords
        self._access_tokens = access_tokens
        self._throttle = throttle  # per account and client
        self._clients = clients  # per client, across accounts (password spraying)
        self._refresh_ttl = refresh_ttl

    async def login(self, email: str, password: str, client: str = "-") -> Tokens:
        """Tokens for the right password. Unknown email and wrong password fail alike, in
        about the same time (a dummy hash is verified). Failures slow down the next attempts
        of the same account from the same ``client`` (its address), and of any account from a
        client that failed too often (``TooManyAttempts``, with the wait); see ``throttle``."""
        key = f"{normalize_email(email)}|{client}"
        wait = await self._clients.check(client) if self._clients is not None else None
        if wait is None:
            wait = await self._throttle.attempt(key)
        if wait is not None:
            LOGINS.labels("throttled").inc()
            log.warning("login throttled", email_ref=_email_ref(email), retry_after=wait)
            raise TooManyAttempts(wait)
        async with read_only(self._engine) as conn:
            user = await repo.live_user_by_email(conn, email)
        matched = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not matched:
            LOGINS.labels("failure").inc()
            log.info("login failed", email_ref=_email_ref(email))
            if self._clients is not None:
                await self._clients.failed(client)
            raise InvalidCredentials()
        await self._throttle.forget(key)
        await self._rehash_if_needed(user, password)
        LOGINS.labels("success").inc()
        log.info("login", user_id=user.id)
        return await self._open_family(user)

    async def _rehash_if_needed(self, user: User, password: str) -> None:
        """Hashes carry their parameters: raising them upgrades each account at its next login."""
        if not self._passwords.needs_rehash(user.password_hash):
            return
        new_hash = await self._passwords.hash(password)
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update()
                .where(users.c.id == user.id, users.c.password_hash == user.password_hash)
                .values(password_hash=new_hash)
            )

    async def _open_family(self, user: User) -> Tokens:
        now = _now()
        refresh = new_refresh_token(None, now, self._refresh_ttl)
        async with self._engine.begin() as conn:
            await repo.insert_refresh_token(conn, user.id, refresh, now)
        return Tokens(self._access_tokens.issue(user.id, user.role, now), refresh.token)

    async def refresh(self, token: str) -> Tokens:
        """The next pair of the family; the presented token is dead from now on."""
        now = _now()
        async with self._engine.begin() as conn:
            rotated = await self._rotate(conn, hash_refresh_token(token), now)
        if rotated is None:
            raise InvalidRefreshToken()
        user, refresh = rotated
        return Tokens(self._access_tokens.issue(user.id, user.role, now), refresh.token)

    async def _rotate(
        self, conn: AsyncConnection, token_hash: str, now: datetime
    ) -> tuple[User, NewRefreshToken] | None:
        """Consume the token and add its successor; None (revocations kept) if it may not."""
        row = await repo.refresh_token(conn, token_hash)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        user = await repo.live_user(conn, row.user_id)
        if not await repo.mark_used(conn, token_hash, now) or user is None:
            await self._revoke(conn, row, now, reused=user is not None)
            return None
        successor = new_refresh_token(row.family_id, now, self._refresh_ttl)
        await repo.insert_refresh_token(conn, user.id, successor, now)
        return user, successor

    async def _revoke(
        self, conn: AsyncConnection, row: Row[Any], now: datetime, reused: bool
    ) -> None:
        await repo.revoke_family(conn, row.family_id, now)
        if reused:
            log.warning("refresh token reused; family revoked", user_id=row.user_id)

    async def logout(self, token: str) -> None:
        """Revoke the token's family; unknown tokens are ignored (logout always succeeds)."""
        now = _now()
        async with self._engine.begin() as conn:
            row = await repo.refresh_token(conn, hash_refresh_token(token))
            if row is not None:
                await repo.revoke_family(conn, row.family_id, now)
                log.info("logout", user_id=row.user_id)
