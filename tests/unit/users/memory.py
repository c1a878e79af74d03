""":class:`~gamestore.users.repository.UserRepository` in memory, for the use cases' unit
tests: the SQL adapter's rules (one live account per case-insensitive email, a deleted account
frees its email, a token is consumed once) without a database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from gamestore.users.domain import User, normalize_email
from gamestore.users.repository import StoredRefreshToken
from gamestore.users.tokens import NewRefreshToken


@dataclass
class InMemoryUsers:
    users: dict[str, User] = field(default_factory=dict)
    deleted: dict[str, datetime] = field(default_factory=dict)
    tokens: dict[str, StoredRefreshToken] = field(default_factory=dict)

    def _live(self) -> list[User]:
        return [user for user in self.users.values() if user.id not in self.deleted]

    async def insert_user(self, user: User) -> None:
        if await self.email_in_use(user.email) or user.id in self.users:
            raise IntegrityError("INSERT INTO users", None, ValueError("uq_users_live_email"))
        self.users[user.id] = user

    async def live_user(self, user_id: str, *, lock: bool = False) -> User | None:
        return next((user for user in self._live() if user.id == user_id), None)

    async def live_user_by_email(self, email: str) -> User | None:
        key = normalize_email(email)
        return next((user for user in self._live() if normalize_email(user.email) == key), None)

    async def email_in_use(self, email: str, except_id: str | None = None) -> bool:
        user = await self.live_user_by_email(email)
        return user is not None and user.id != except_id

    async def page_of_users(self, page: int, size: int) -> tuple[list[User], int]:
        live = sorted(self._live(), key=lambda user: (user.created_at, user.id))
        return live[(page - 1) * size : page * size], len(live)

    async def save_user(self, user: User) -> None:
        self.users[user.id] = user

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> None:
        user = self.users[user_id]
        if user.password_hash == old_hash:
            self.users[user_id] = replace(user, password_hash=new_hash)

    async def mark_deleted(self, user_id: str, now: datetime) -> None:
        self.deleted[user_id] = now
        self.users[user_id] = replace(self.users[user_id], updated_at=now)

    async def insert_refresh_token(
        self, user_id: str, token: NewRefreshToken, now: datetime
    ) -> None:
        self.tokens[token.token_hash] = StoredRefreshToken(
            token.token_hash, user_id, token.family_id, now, token.expires_at
        )

    async def refresh_token(self, token_hash: str) -> StoredRefreshToken | None:
        return self.tokens.get(token_hash)

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        token = self.tokens.get(token_hash)
        if token is None or token.used_at is not None or token.revoked_at is not None:
            return False
        self.tokens[token_hash] = replace(token, used_at=now)
        return True

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        self._revoke(lambda token: token.family_id == family_id, now)

    async def revoke_user_tokens(self, user_id: str, now: datetime) -> None:
        self._revoke(lambda token: token.user_id == user_id, now)

    def _revoke(self, which: Callable[[StoredRefreshToken], bool], now: datetime) -> None:
        for key, token in self.tokens.items():
            if which(token) and token.revoked_at is None:
                self.tokens[key] = replace(token, revoked_at=now)
