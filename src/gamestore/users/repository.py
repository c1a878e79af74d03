"""The users database behind one port: accounts and refresh tokens.

:class:`UserRepository` is what the use cases need; :class:`SqlUsers` answers it on a unit of
work's connection. The use cases' unit tests run on an in-memory one (``tests/unit/users``)
held to the same rules — one live account per case-insensitive email, a deleted account frees
its email, a token is consumed once — by a contract test both adapters pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.users.domain import User, normalize_email
from gamestore.users.tables import refresh_tokens, users
from gamestore.users.tokens import NewRefreshToken


@dataclass(frozen=True, slots=True)
class StoredRefreshToken:
    """A refresh token as stored: its hash, never the token."""

    token_hash: str
    user_id: str
    family_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class UserRepository(Protocol):
    """Accounts and refresh tokens, inside the caller's unit of work."""

    async def insert_user(self, user: User) -> None: ...
    async def live_user(self, user_id: str, *, lock: bool = False) -> User | None: ...
    async def live_user_by_email(self, email: str) -> User | None: ...
    async def email_in_use(self, email: str, except_id: str | None = None) -> bool: ...
    async def page_of_users(self, page: int, size: int) -> tuple[list[User], int]: ...

    async def save_user(self, user: User) -> None:
        """Write ``user`` over its row (the caller locked it and bumped the version)."""

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> None:
        """Replace the hash, unless the password changed meanwhile."""

    async def mark_deleted(self, user_id: str, now: datetime) -> None: ...
    async def insert_refresh_token(
        self, user_id: str, token: NewRefreshToken, now: datetime
    ) -> None: ...
    async def refresh_token(self, token_hash: str) -> StoredRefreshToken | None: ...

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        """Consume a live token; False if another request consumed or revoked it first."""

    async def revoke_family(self, family_id: str, now: datetime) -> None: ...
    async def revoke_user_tokens(self, user_id: str, now: datetime) -> None: ...


_live = users.c.deleted_at.is_(None)


def _user(row: Row[Any]) -> User:
    return User(row.id, row.name, row.email, row.role, row.password_hash, row.version,
                row.created_at, row.updated_at)  # fmt: skip


def _columns(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "email": user.email,
        "email_normalized": normalize_email(user.email),
        "password_hash": user.password_hash,
        "role": user.role,
        "version": user.version,
        "updated_at": user.updated_at,
    }


class SqlUsers:
    """:class:`UserRepository` on a connection, one statement per method."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def insert_user(self, user: User) -> None:
        values = {**_columns(user), "id": user.id, "created_at": user.created_at}
        await self._conn.execute(users.insert().values(**values))

    async def live_user(self, user_id: str, *, lock: bool = False) -> User | None:
        query = select(users).where(users.c.id == user_id, _live)
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return None if row is None else _user(row)

    async def live_user_by_email(self, email: str) -> User | None:
        query = select(users).where(users.c.email_normalized == normalize_email(email), _live)
        row = (await self._conn.execute(query)).first()
        return None if row is None else _user(row)

    async def email_in_use(self, email: str, except_id: str | None = None) -> bool:
        query = select(users.c.id).where(users.c.email_normalized == normalize_email(email), _live)
        if except_id is not None:
            query = query.where(users.c.id != except_id)
        return (await self._conn.execute(query.limit(1))).first() is not None

    async def page_of_users(self, page: int, size: int) -> tuple[list[User], int]:
        count = select(func.count()).select_from(users).where(_live)
        total = (await self._conn.execute(count)).scalar_one()
        rows = await self._conn.execute(
            select(users).where(_live).order_by(users.c.created_at, users.c.id)
            .offset((page - 1) * size).limit(size)
        )  # fmt: skip
        return [_user(row) for row in rows], int(total)

    async def save_user(self, user: User) -> None:
        await self._conn.execute(update(users).where(users.c.id == user.id).values(_columns(user)))

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> None:
        await self._conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.password_hash == old_hash)
            .values(password_hash=new_hash)
        )

    async def mark_deleted(self, user_id: str, now: datetime) -> None:
        await self._conn.execute(
            update(users).where(users.c.id == user_id).values(deleted_at=now, updated_at=now)
        )

    async def insert_refresh_token(
        self, user_id: str, token: NewRefreshToken, now: datetime
    ) -> None:
        await self._conn.execute(
            refresh_tokens.insert().values(
                token_hash=token.token_hash,
                user_id=user_id,
                family_id=token.family_id,
                issued_at=now,
                expires_at=token.expires_at,
            )
        )

    async def refresh_token(self, token_hash: str) -> StoredRefreshToken | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        row = (await self._conn.execute(query)).first()
        return None if row is None else StoredRefreshToken(**row._mapping)

    async def mark_used(self, token_hash: str, now: datetime) -> bool:
        result = await self._conn.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.token_hash == token_hash,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self._revoke(refresh_tokens.c.family_id == family_id, now)

    async def revoke_user_tokens(self, user_id: str, now: datetime) -> None:
        await self._revoke(refresh_tokens.c.user_id == user_id, now)

    async def _revoke(self, which: Any, now: datetime) -> None:
        await self._conn.execute(
            update(refresh_tokens)
            .where(which, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
