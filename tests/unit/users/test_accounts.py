"""Account and session use cases through an in-memory unit of work: what each decides, the
events it emits (type, stream, expected version, payload) and the relay wake-ups it costs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gamestore.platform.eventstore import NO_STREAM
from gamestore.platform.uow import Emitted, FakeUnitOfWork
from gamestore.users.accounts import Accounts
from gamestore.users.domain import (
    ADMIN,
    Caller,
    CurrentPasswordRequired,
    EmailTaken,
    Forbidden,
    InvalidRefreshToken,
    PasswordRequired,
    User,
    UserNotFound,
)
from gamestore.users.events import UserDeleted, UserRegistered, UserUpdated
from gamestore.users.keys import KeyRing, SigningKey
from gamestore.users.passwords import Argon2Parameters, Passwords
from gamestore.users.repository import UserRepository
from gamestore.users.sessions import Sessions
from gamestore.users.throttle import InMemoryThrottle
from gamestore.users.tokens import AccessTokens
from tests.unit.users.memory import InMemoryUsers

PASSWORD = "s3cret-Passw0rd!"
NEW_PASSWORD = "n3w-Passw0rd!"
PASSWORDS = Passwords(Argon2Parameters(1, 64, 1))

UoW = FakeUnitOfWork[UserRepository]


@pytest.fixture
def uow() -> UoW:
    return FakeUnitOfWork(repo=InMemoryUsers())


@pytest.fixture
def accounts(uow: UoW) -> Accounts:
    return Accounts(uow, PASSWORDS)


@pytest.fixture
def sessions(uow: UoW) -> Sessions:
    key = SigningKey("k1", Ed25519PrivateKey.generate())
    tokens = AccessTokens(KeyRing(key, (key,)), 900)
    return Sessions(uow, PASSWORDS, tokens, InMemoryThrottle(5, 900), timedelta(days=1))


def forget(uow: UoW) -> None:
    """Start counting afresh: the set-up's events and wake-ups are not the test's."""
    uow.committed.clear()
    uow.wakes = 0


async def registered(accounts: Accounts, uow: UoW, email: str = "ada@example.com") -> User:
    user = await accounts.register("Ada", email, PASSWORD)
    forget(uow)
    return user


async def test_a_registration_emits_user_registered_on_a_new_stream(
    accounts: Accounts, uow: UoW
) -> None:
    user = await accounts.register("Ada", "Ada@Example.com", PASSWORD)

    event = UserRegistered.of(user).new_event()
    assert [(e.stream_id, e.expected_version) for e in uow.committed] == [
        (f"user-{user.id}", NO_STREAM)
    ]
    [emitted] = uow.events(f"user-{user.id}")
    assert (emitted.type, dict(emitted.data)) == (event.type, dict(event.data))
    assert emitted.data["role"] == "player" and uow.wakes == 1


async def test_an_email_taken_in_any_case_emits_nothing(accounts: Accounts, uow: UoW) -> None:
    await registered(accounts, uow, "ada@example.com")

    with pytest.raises(EmailTaken):
        await accounts.register("Other", "ADA@example.COM", PASSWORD)

    assert uow.committed == [] and uow.wakes == 0


async def test_an_update_that_changes_nothing_emits_nothing(accounts: Accounts, uow: UoW) -> None:
    user = await registered(accounts, uow)

    same = await accounts.update(Caller(user.id, "player"), user.id, name="Ada", role="player")

    assert same == user and uow.committed == [] and uow.wakes == 0


async def test_an_update_emits_what_changed_at_the_version_read(
    accounts: Accounts, uow: UoW
) -> None:
    user = await registered(accounts, uow)

    renamed = await accounts.update(Caller(user.id, "player"), user.id, name="Grace")

    assert uow.committed == [
        Emitted(f"user-{user.id}", uow.committed[0].events, expected_version=1)
    ]
    assert uow.events()[0].data == UserUpdated.of(renamed, ["name"]).payload()
    assert renamed.version == 2 and uow.wakes == 1


async def test_a_password_change_says_so_and_ends_every_session(
    accounts: Accounts, sessions: Sessions, uow: UoW
) -> None:
    user = await registered(accounts, uow)
    tokens = await sessions.login(user.email, PASSWORD)
    assert uow.wakes == 0  # a login writes no event

    await accounts.update(
        Caller(user.id, "player"), user.id, password=NEW_PASSWORD, current_password=PASSWORD
    )

    assert uow.types() == ["UserUpdated"] and uow.wakes == 1
    assert uow.events()[0].data["changed"] == ["password"]
    assert "argon2" not in str(uow.events()[0].data)
    with pytest.raises(InvalidRefreshToken):
        await sessions.refresh(tokens.refresh_token)


async def test_ones_own_password_needs_the_current_one(accounts: Accounts, uow: UoW) -> None:
    user = await registered(accounts, uow)

    with pytest.raises(CurrentPasswordRequired):
        await accounts.update(
            Caller(user.id, "player"), user.id, password=NEW_PASSWORD, current_password="wr0ng!"
        )

    assert uow.committed == [] and uow.wakes == 0


async def test_a_player_may_not_change_a_role(accounts: Accounts, uow: UoW) -> None:
    user = await registered(accounts, uow)

    with pytest.raises(Forbidden):
        await accounts.update(Caller(user.id, "player"), user.id, role=ADMIN)

    assert uow.committed == []


async def test_a_deletion_emits_user_deleted_and_ends_every_session(
    accounts: Accounts, sessions: Sessions, uow: UoW
) -> None:
    user = await registered(accounts, uow)
    tokens = await sessions.login(user.email, PASSWORD)

    await accounts.delete(Caller(user.id, "player"), user.id)

    [emitted] = uow.committed
    assert (emitted.stream_id, emitted.expected_version) == (f"user-{user.id}", user.version)
    assert emitted.events[0].type == UserDeleted.TYPE
    assert emitted.events[0].data["user_id"] == user.id and uow.wakes == 1
    assert await accounts.current(user.id) is None
    with pytest.raises(InvalidRefreshToken):
        await sessions.refresh(tokens.refresh_token)


async def test_someone_elses_account_is_not_found_and_nothing_is_emitted(
    accounts: Accounts, uow: UoW
) -> None:
    user = await registered(accounts, uow)
    stranger = Caller("22222222-2222-2222-2222-222222222222", "player")

    with pytest.raises(UserNotFound):
        await accounts.delete(stranger, user.id)
    with pytest.raises(UserNotFound):
        await accounts.update(stranger, user.id, name="Mallory")

    assert uow.committed == [] and uow.wakes == 0


async def test_make_admin_creates_an_admin_account(accounts: Accounts, uow: UoW) -> None:
    grant = await accounts.make_admin("root@example.com", "Root", PASSWORD)

    assert grant.created and not grant.was_admin and not grant.password_reset
    assert uow.types() == ["UserRegistered"] and uow.events()[0].data["role"] == ADMIN
    assert uow.committed[0].expected_version == NO_STREAM and uow.wakes == 1


async def test_make_admin_promotes_and_keeps_the_password(
    accounts: Accounts, sessions: Sessions, uow: UoW
) -> None:
    user = await registered(accounts, uow)

    grant = await accounts.make_admin(user.email.upper(), "Ignored", "0ther-Passw0rd!")

    assert not grant.created and not grant.was_admin and not grant.password_reset
    assert uow.events()[0].data["changed"] == ["role"] and uow.wakes == 1
    assert uow.committed[0].expected_version == user.version
    assert (await sessions.login(user.email, PASSWORD)).refresh_token


async def test_make_admin_of_an_admin_changes_nothing(accounts: Accounts, uow: UoW) -> None:
    await accounts.make_admin("root@example.com", "Root", PASSWORD)
    forget(uow)

    grant = await accounts.make_admin("root@example.com", "Root", None)

    assert grant.was_admin and not grant.created
    assert uow.committed == [] and uow.wakes == 0


async def test_make_admin_resets_a_password_only_when_given_one(
    accounts: Accounts, uow: UoW
) -> None:
    user = await registered(accounts, uow)
    with pytest.raises(PasswordRequired):
        await accounts.make_admin(user.email, "Ada", None, reset_password=True)
    with pytest.raises(PasswordRequired):
        await accounts.make_admin("new@example.com", "New", None)
    assert uow.committed == []

    grant = await accounts.make_admin(user.email, "Ada", NEW_PASSWORD, reset_password=True)

    assert grant.password_reset and not grant.was_admin
    assert uow.events()[0].data["changed"] == ["role", "password"] and uow.wakes == 1
