"""One contract for both adapters of the users repository: the SQL one on SQLite and on
PostgreSQL, and the in-memory one the use cases' unit tests run on, held to the same rules."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from gamestore.platform.uow import UnitOfWork
from gamestore.users.domain import User
from gamestore.users.repository import SqlUsers, UserRepository
from gamestore.users.tables import metadata, outbox
from gamestore.users.tokens import new_refresh_token
from tests.integration.repositories import ADAPTERS, unit_of_work
from tests.unit.users.memory import InMemoryUsers

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
Users = UnitOfWork[UserRepository]


@pytest.fixture(params=ADAPTERS)
async def uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Users]:
    schema = (metadata, outbox)
    adapter: contextlib.AbstractAsyncContextManager[Users] = unit_of_work(
        request.param, tmp_path / "users.db", schema, SqlUsers, InMemoryUsers
    )
    async with adapter as built:
        yield built


def user(email: str, minutes: int = 0) -> User:
    at = NOW + timedelta(minutes=minutes)
    return User(str(uuid.uuid4()), "Ada", email, "player", "$argon2id$h", 1, at, at)


async def test_one_live_account_per_email_in_any_case(uow: Users) -> None:
    ada = user("Ada@Example.com")
    async with uow() as tx:
        await tx.repo.insert_user(ada)
    async with uow() as tx:
        assert await tx.repo.email_in_use("ada@EXAMPLE.com")
        assert not await tx.repo.email_in_use("ada@example.com", except_id=ada.id)
        assert await tx.repo.live_user_by_email("ADA@example.COM") == ada
    with pytest.raises(IntegrityError):
        async with uow() as tx:
            await tx.repo.insert_user(user("ada@example.com"))


async def test_a_deleted_account_frees_its_email_and_leaves_the_pages(uow: Users) -> None:
    first, second, third = user("a@x.io", 0), user("b@x.io", 1), user("c@x.io", 2)
    async with uow() as tx:
        for each in (third, first, second):
            await tx.repo.insert_user(each)
        await tx.repo.mark_deleted(second.id, NOW)
    async with uow() as tx:
        assert await tx.repo.live_user(second.id) is None
        assert not await tx.repo.email_in_use("b@x.io")
        assert await tx.repo.page_of_users(1, 1) == ([first], 2)
        assert await tx.repo.page_of_users(2, 1) == ([third], 2)


async def test_a_saved_account_and_a_rehash_that_lost_a_race(uow: Users) -> None:
    ada = user("ada@x.io")
    async with uow() as tx:
        await tx.repo.insert_user(ada)
        renamed = User(ada.id, "Grace", "grace@x.io", "admin", "$argon2id$new", 2,
                       ada.created_at, NOW + timedelta(hours=1))  # fmt: skip
        await tx.repo.save_user(renamed)
        await tx.repo.rehash_password(ada.id, "$argon2id$h", "$argon2id$stale")
    async with uow() as tx:
        assert await tx.repo.live_user(ada.id) == renamed
        assert await tx.repo.live_user_by_email("GRACE@x.io") == renamed


async def test_a_refresh_token_is_consumed_once_and_revoked_with_its_family(uow: Users) -> None:
    ada = user("ada@x.io")
    first = new_refresh_token(None, NOW, timedelta(days=1))
    second = new_refresh_token(first.family_id, NOW, timedelta(days=1))
    other = new_refresh_token(None, NOW, timedelta(days=1))
    async with uow() as tx:
        await tx.repo.insert_user(ada)
        for token in (first, second, other):
            await tx.repo.insert_refresh_token(ada.id, token, NOW)
    async with uow() as tx:
        assert await tx.repo.mark_used(first.token_hash, NOW)
        assert not await tx.repo.mark_used(first.token_hash, NOW)
        await tx.repo.revoke_family(first.family_id, NOW)
    async with uow() as tx:
        stored = await tx.repo.refresh_token(second.token_hash)
        assert stored is not None and stored.revoked_at == NOW
        assert stored.family_id == first.family_id and stored.user_id == ada.id
        assert not await tx.repo.mark_used(second.token_hash, NOW)
        kept = await tx.repo.refresh_token(other.token_hash)
        assert kept is not None and kept.revoked_at is None and kept.used_at is None
        await tx.repo.revoke_user_tokens(ada.id, NOW)
        assert await tx.repo.refresh_token("0" * 64) is None
    async with uow() as tx:
        revoked = await tx.repo.refresh_token(other.token_hash)
        assert revoked is not None and revoked.revoked_at == NOW
