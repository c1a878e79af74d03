"""SQL of the users database, one function per query, always inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.users.domain import User, normalize_email
from gamestore.users.tables import refresh_tokens, users
from gamestore.users.tokens import NewRefreshToken

_live = users.c.deleted_at.is_(None)


def _user(row: Row[Any] | None) -> User | None:
    if row is None:
        return None
    return User(
        id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        password_hash=row.password_hash,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def insert_user(conn: AsyncConnection, user: User) -> None:
    await conn.execute(
        users.insert().values(
            id=user.id,
            name=user.name,
            email=user.email,
            email_normalized=normalize_email(user.email),
            password_hash=user.password_hash,
            role=user.role,
            version=user.version,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
    )


async def live_user(conn: AsyncConnection, user_id: str, *, lock: bool = False) -> User | None:
    query = select(users).where(users.c.id == user_id, _live)
    if lock:
        query = query.with_for_update()
    return _user((await conn.execute(query)).first())


async def live_user_by_email(
    conn: AsyncConnection, email: str, *, lock: bool = False
) -> User | None:
    query = select(users).where(users.c.email_normalized == normalize_email(email), _live)
    if lock:
        query = query.with_for_update()
    return _user((await conn.execute(query)).first())


async def email_in_use(conn: AsyncConnection, email: str, except_id: str | None = None) -> bool:
    query = select(users.c.id).where(users.c.email_normalized == normalize_email(email), _live)
    if except_id is not None:
        query = query.where(users.c.id != except_id)
    return (await conn.execute(query.limit(1))).first() is not None


async def page_of_users(conn: AsyncConnection, page: int, size: int) -> tuple[list[User], int]:
    total = (await conn.execute(select(func.count()).select_from(users).where(_live))).scalar_one()
    rows = await conn.execute(
        select(users)
        .where(_live)
        .order_by(users.c.created_at, users.c.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return [u for u in map(_user, rows) if u is not None], int(total)


async def save_user(conn: AsyncConnection, user: User) -> None:
    """Write ``user`` over its row (the caller locked it and bumped the version)."""
    await conn.execute(
        update(users)
        .where(users.c.id == user.id)
        .values(
            name=user.name,
            email=user.email,
            email_normalized=normalize_email(user.email),
            password_hash=user.password_hash,
            role=user.role,
            version=user.version,
            updated_at=user.updated_at,
        )
    )


async def mark_deleted(conn: AsyncConnection, user_id: str, now: datetime) -> None:
    await conn.execute(
        update(users).where(users.c.id == user_id).values(deleted_at=now, updated_at=now)
    )


async def insert_refresh_token(
    conn: AsyncConnection, user_id: str, token: NewRefreshToken, now: datetime
) -> None:
    await conn.execute(
        refresh_tokens.insert().values(
            token_hash=token.token_hash,
            user_id=user_id,
            family_id=token.family_id,
            issued_at=now,
            expires_at=token.expires_at,
        )
    )


async def refresh_token(conn: AsyncConnection, token_hash: str) -> Row[Any] | None:
    query = select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
    return (await conn.execute(query)).first()


async def mark_used(conn: AsyncConnection, token_hash: str, now: datetime) -> bool:
    """Consume a live token; False if another request consumed or revoked it first."""
    result = await conn.execute(
        update(refresh_tokens)
        .where(
            refresh_tokens.c.token_hash == token_hash,
            refresh_tokens.c.used_at.is_(None),
            refresh_tokens.c.revoked_at.is_(None),
        )
        .values(used_at=now)
    )
    return result.rowcount == 1


async def revoke_family(conn: AsyncConnection, family_id: str, now: datetime) -> None:
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_tokens(conn: AsyncConnection, user_id: str, now: datetime) -> None:
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
