"""Account use cases: register, read, list, update, delete, make an admin.

Each is one unit of work: the state change and its event (through the outbox) commit together.
Passwords are hashed before the transaction opens, so no lock is held while argon2 runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.platform.db import read_only
from gamestore.platform.eventstore import NO_STREAM
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import no_wake
from gamestore.users import repository as repo
from gamestore.users.domain import (
    ADMIN,
    PLAYER,
    Caller,
    CurrentPasswordRequired,
    EmailTaken,
    PasswordRequired,
    User,
    UserNotFound,
    apply_changes,
    canonical_id,
    check_role_change,
    may_see,
    stream_of,
    user_deleted,
    user_registered,
    user_updated,
)
from gamestore.users.passwords import Passwords
from gamestore.users.tables import outbox

log = get_logger("users")


def _now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    def __init__(
        self,
        engine: AsyncEngine,
        passwords: Passwords,
        *,
        on_commit: Callable[[], None] = no_wake,
    ) -> None:
        self._engine = engine
        self._passwords = passwords
        self._on_commit = on_commit  # wakes the outbox relay

    async def register(self, name: str, email: str, password: str, role: str = PLAYER) -> User:
        """A new account; :class:`EmailTaken` if a live account has this email in any case."""
        password_hash = await self._passwords.hash(password)
        now = _now()
        user = User(str(uuid.uuid4()), name, email, role, password_hash, 1, now, now)
        try:
            async with self._engine.begin() as conn:
                if await repo.email_in_use(conn, email):
                    raise EmailTaken(email)
                await repo.insert_user(conn, user)
                await outbox.add(conn, stream_of(user.id), [user_registered(user)], NO_STREAM)
        except IntegrityError as error:  # a concurrent registration won the unique index
            raise EmailTaken(email) from error
        self._on_commit()
        log.info("user registered", user_id=user.id, role=role)
        return user

    async def current(self, user_id: str) -> User | None:
        """The token's subject's account as it stands now; None once it is deleted."""
        async with read_only(self._engine) as conn:
            return await repo.live_user(conn, user_id)

    async def get(self, caller: Caller, user_id: str) -> User:
        """Self or admin; anyone else gets :class:`UserNotFound`, as for a missing user."""
        user_id = canonical_id(user_id)
        if not may_see(caller, user_id):
            raise UserNotFound(user_id)
        async with read_only(self._engine) as conn:
            user = await repo.live_user(conn, user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def page(self, page: int, size: int) -> tuple[list[User], int]:
        """Live users, oldest first, and how many there are."""
        async with read_only(self._engine) as conn:
            return await repo.page_of_users(conn, page, size)

    async def update(
        self,
        caller: Caller,
        user_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        password: str | None = None,
        current_password: str | None = None,
        role: str | None = None,
    ) -> User:
        """Self or admin; only an admin changes a role; changing one's own password needs the
        current one (:class:`CurrentPasswordRequired`); a new password ends every session and
        revokes every access token issued before it."""
        user_id = canonical_id(user_id)
        if not may_see(caller, user_id):
            raise UserNotFound(user_id)
        if password is not None and caller.user_id == user_id:
            await self._check_current_password(user_id, current_password)
        password_hash = await self._passwords.hash(password) if password is not None else None
        try:
            async with self._engine.begin() as conn:
                user = await repo.live_user(conn, user_id, lock=True)
                if user is None:
                    raise UserNotFound(user_id)
                check_role_change(caller, user, role)
                updated = await _save_changes(
                    conn, user, name=name, email=email, password_hash=password_hash, role=role
                )
        except IntegrityError as error:
            raise EmailTaken(email or "") from error
        if updated is not user:
            self._on_commit()
        return updated

    async def _check_current_password(self, user_id: str, current_password: str | None) -> None:
        async with read_only(self._engine) as conn:
            user = await repo.live_user(conn, user_id)
        if user is None:
            raise UserNotFound(user_id)
        if current_password is None or not await self._passwords.verify(
            user.password_hash, current_password
        ):
            log.warning("password change refused: current password missing or wrong",
                        user_id=user_id)  # fmt: skip
            raise CurrentPasswordRequired(user_id)

    async def delete(self, caller: Caller, user_id: str) -> None:
        """Self or admin: the account goes, with every refresh token it holds."""
        user_id = canonical_id(user_id)
        if not may_see(caller, user_id):
            raise UserNotFound(user_id)
        now = _now()
        async with self._engine.begin() as conn:
            user = await repo.live_user(conn, user_id, lock=True)
            if user is None:
                raise UserNotFound(user_id)
            await repo.mark_deleted(conn, user_id, now)
            await repo.revoke_user_tokens(conn, user_id, now)
            await outbox.add(conn, stream_of(user_id), [user_deleted(user_id, now)], user.version)
        self._on_commit()
        log.info("user deleted", user_id=user_id, by=caller.user_id)

    async def make_admin(
        self, email: str, name: str, password: str | None, *, reset_password: bool = False
    ) -> AdminGrant:
        """Create an admin with ``password``, or promote the live account with this email.

        Promoting keeps the account's password unless ``reset_password`` is set: an operator
        who mistypes an existing email must not lock its owner out. :class:`PasswordRequired`
        when a new account, or a reset, has no password.
        """
        async with read_only(self._engine) as conn:
            existing = await repo.live_user_by_email(conn, email)
        if existing is None:
            if password is None:
                raise PasswordRequired(email)
            user = await self.register(name, email, password, role=ADMIN)
            return AdminGrant(user, created=True, was_admin=False, password_reset=False)
        if not reset_password:
            return await self._promote(existing.id, None)
        if password is None:
            raise PasswordRequired(email)
        return await self._promote(existing.id, await self._passwords.hash(password))

    async def _promote(self, user_id: str, password_hash: str | None) -> AdminGrant:
        async with self._engine.begin() as conn:
            user = await repo.live_user(conn, user_id, lock=True)
            if user is None:
                raise UserNotFound(user_id)
            promoted = await _save_changes(conn, user, password_hash=password_hash, role=ADMIN)
        if promoted is not user:
            self._on_commit()
        reset = password_hash is not None
        return AdminGrant(
            promoted, created=False, was_admin=user.role == ADMIN, password_reset=reset
        )


@dataclass(frozen=True, slots=True)
class AdminGrant:
    """What :meth:`Accounts.make_admin` did: the admin, and whether it was created, already an
    admin, and had its password reset."""

    user: User
    created: bool
    was_admin: bool
    password_reset: bool


async def _save_changes(conn: AsyncConnection, user: User, **changes: str | None) -> User:
    """Write the changes that really change something, with their ``UserUpdated`` event."""
    updated, changed = apply_changes(user, _now(), **changes)
    if not changed:
        return user
    if "email" in changed and await repo.email_in_use(conn, updated.email, user.id):
        raise EmailTaken(updated.email)
    await repo.save_user(conn, updated)
    if "password" in changed:
        await repo.revoke_user_tokens(conn, user.id, updated.updated_at)
    await outbox.add(conn, stream_of(user.id), [user_updated(updated, changed)], user.version)
    log.info("user updated", user_id=user.id, changed=",".join(changed))
    return updated
