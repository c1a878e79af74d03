"""Login, refresh-token rotation with reuse detection, logout.

A login opens a refresh-token *family*. Each refresh consumes the presented token and issues the
next one in the family. Presenting a token that was already consumed means two parties hold the
same family (a stolen token): the whole family is revoked, so the thief and the victim both have
to log in again (OAuth 2.0 Security BCP, refresh token rotation).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from gamestore.platform.clock import utcnow
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import LOGINS
from gamestore.platform.uow import UnitOfWork
from gamestore.users.domain import (
    InvalidCredentials,
    InvalidRefreshToken,
    TooManyAttempts,
    User,
    normalize_email,
)
from gamestore.users.passwords import Passwords
from gamestore.users.repository import StoredRefreshToken, UserRepository
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


def _email_ref(email: str) -> str:
    """A stable, non-reversible reference to an email for the logs."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:12]


class Sessions:
    """Sessions change account state only (no event): each write is a unit of work that emits
    nothing, so it wakes no relay."""

    def __init__(
        self,
        uow: UnitOfWork[UserRepository],
        passwords: Passwords,
        access_tokens: AccessTokens,
        throttle: LoginThrottle,
        refresh_ttl: timedelta,
        clients: LoginThrottle | None = None,
    ) -> None:
        self._uow = uow
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
        async with self._uow.read() as repo:
            user = await repo.live_user_by_email(email)
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
        async with self._uow() as tx:
            await tx.repo.rehash_password(user.id, user.password_hash, new_hash)

    async def _open_family(self, user: User) -> Tokens:
        now = utcnow()
        refresh = new_refresh_token(None, now, self._refresh_ttl)
        async with self._uow() as tx:
            await tx.repo.insert_refresh_token(user.id, refresh, now)
        return Tokens(self._access_tokens.issue(user.id, user.role, now), refresh.token)

    async def refresh(self, token: str) -> Tokens:
        """The next pair of the family; the presented token is dead from now on."""
        now = utcnow()
        async with self._uow() as tx:
            rotated = await self._rotate(tx.repo, hash_refresh_token(token), now)
        if rotated is None:
            raise InvalidRefreshToken()
        user, refresh = rotated
        return Tokens(self._access_tokens.issue(user.id, user.role, now), refresh.token)

    async def _rotate(
        self, repo: UserRepository, token_hash: str, now: datetime
    ) -> tuple[User, NewRefreshToken] | None:
        """Consume the token and add its successor; None (revocations kept) if it may not."""
        stored = await repo.refresh_token(token_hash)
        if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
            return None
        user = await repo.live_user(stored.user_id)
        if not await repo.mark_used(token_hash, now) or user is None:
            await self._revoke(repo, stored, now, reused=user is not None)
            return None
        successor = new_refresh_token(stored.family_id, now, self._refresh_ttl)
        await repo.insert_refresh_token(user.id, successor, now)
        return user, successor

    async def _revoke(
        self, repo: UserRepository, stored: StoredRefreshToken, now: datetime, reused: bool
    ) -> None:
        await repo.revoke_family(stored.family_id, now)
        if reused:
            log.warning("refresh token reused; family revoked", user_id=stored.user_id)

    async def logout(self, token: str) -> None:
        """Revoke the token's family; unknown tokens are ignored (logout always succeeds)."""
        now = utcnow()
        async with self._uow() as tx:
            stored = await tx.repo.refresh_token(hash_refresh_token(token))
            if stored is not None:
                await tx.repo.revoke_family(stored.family_id, now)
                log.info("logout", user_id=stored.user_id)
