"""Account use cases: register, read, list, update, delete, make an admin.

Each write is one unit of work: the state change and its event commit together, and the relay
is woken after a commit that emitted one. Passwords are hashed before the unit of work opens, so
no lock is held while argon2 runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from gamestore.platform.clock import utcnow
from gamestore.platform.eventstore import NO_STREAM
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import Transaction, UnitOfWork
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
)
from gamestore.users.events import UserDeleted, UserRegistered, UserUpdated
from gamestore.users.passwords import Passwords
from gamestore.users.repository import UserRepository

log = get_logger("users")


class Accounts:
    def __init__(self, uow: UnitOfWork[UserRepository], passwords: Passwords) -> None:
        self._uow = uow
        self._passwords = passwords

    async def register(self, name: str, email: str, password: str, role: str = PLAYER) -> User:
        """A new account; :class:`EmailTaken` if a live account has this email in any case."""
        password_hash = await self._passwords.hash(password)
        now = utcnow()
        user = User(str(uuid.uuid4()), name, email, role, password_hash, 1, now, now)
        try:
            async with self._uow() as tx:
                if await tx.repo.email_in_use(email):
                    raise EmailTaken(email)
                await tx.repo.insert_user(user)
                tx.emit(stream_of(user.id), UserRegistered.of(user), NO_STREAM)
        except IntegrityError as error:  # a concurrent registration won the unique index
            raise EmailTaken(email) from error
        log.info("user registered", user_id=user.id, role=role)
        return user

    async def current(self, user_id: str) -> User | None:
        """The token's subject's account as it stands now; None once it is deleted."""
        async with self._uow.read() as repo:
            return await repo.live_user(user_id)

    async def get(self, caller: Caller, user_id: str) -> User:
        """Self or admin; anyone else gets :class:`UserNotFound`, as for a missing user."""
        user_id = canonical_id(user_id)
        if not may_see(caller, user_id):
            raise UserNotFound(user_id)
        async with self._uow.read() as repo:
            user = await repo.live_user(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def page(self, page: int, size: int) -> tuple[list[User], int]:
        """Live users, oldest first, and how many there are."""
        async with self._uow.read() as repo:
            return await repo.page_of_users(page, size)

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
            async with self._uow() as tx:
                user = await tx.repo.live_user(user_id, lock=True)
                if user is None:
                    raise UserNotFound(user_id)
                check_role_change(caller, user, role)
                return await _save_changes(
                    tx, user, name=name, email=email, password_hash=password_hash, role=role
                )
        except IntegrityError as error:
            raise EmailTaken(email or "") from error

    async def _check_current_password(self, user_id: str, current_password: str | None) -> None:
        async with self._uow.read() as repo:
            user = await repo.live_user(user_id)
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
        now = utcnow()
        async with self._uow() as tx:
            user = await tx.repo.live_user(user_id, lock=True)
            if user is None:
                raise UserNotFound(user_id)
            await tx.repo.mark_deleted(user_id, now)
            await tx.repo.revoke_user_tokens(user_id, now)
            tx.emit(stream_of(user_id), UserDeleted.of(user_id, now), user.version)
        log.info("user deleted", user_id=user_id, by=caller.user_id)

    async def make_admin(
        self, email: str, name: str, password: str | None, *, reset_password: bool = False
    ) -> AdminGrant:
        """Create an admin with ``password``, or promote the live account with this email.

        Promoting keeps the account's password unless ``reset_password`` is set: an operator
        who mistypes an existing email must not lock its owner out. :class:`PasswordRequired`
        when a new account, or a reset, has no password.
        """
        async with self._uow.read() as repo:
            existing = await repo.live_user_by_email(email)
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
        async with self._uow() as tx:
            user = await tx.repo.live_user(user_id, lock=True)
            if user is None:
                raise UserNotFound(user_id)
            promoted = await _save_changes(tx, user, password_hash=password_hash, role=ADMIN)
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


async def _save_changes(tx: Transaction[UserRepository], user: User, **changes: str | None) -> User:
    """Write the changes that really change something, with their ``UserUpdated`` event (no
    change, no event: the relay is not woken for nothing)."""
    updated, changed = apply_changes(user, utcnow(), **changes)
    if not changed:
        return user
    if "email" in changed and await tx.repo.email_in_use(updated.email, user.id):
        raise EmailTaken(updated.email)
    await tx.repo.save_user(updated)
    if "password" in changed:
        await tx.repo.revoke_user_tokens(user.id, updated.updated_at)
    tx.emit(stream_of(user.id), UserUpdated.of(updated, changed), user.version)
    log.info("user updated", user_id=user.id, changed=",".join(changed))
    return updated
