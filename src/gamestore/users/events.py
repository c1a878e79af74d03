"""The events the users service publishes, on each account's stream ``user-{user_id}``.

Consumers import these contracts and call ``parse``; none of them reads the users domain. The
payloads are the ones ADR 008 lists: never the password hash, and times as RFC 3339 UTC text
(``2024-05-01T12:00:00Z``), as they have been stored since the first account.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from gamestore.platform.events import Event

if TYPE_CHECKING:  # a consumer importing the contracts does not load the users domain
    from gamestore.users.domain import User


def rfc3339(moment: datetime) -> str:
    """``moment`` in UTC, spelled with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UserRegistered(Event):
    """A new account (a sign-up, or an admin created from the command line)."""

    TYPE = "UserRegistered"
    STREAM = "user-{user_id}"
    user_id: str
    name: str
    email: str
    role: str
    created_at: str

    @classmethod
    def of(cls, user: User) -> Self:
        return cls(
            user_id=user.id,
            name=user.name,
            email=user.email,
            role=user.role,
            created_at=rfc3339(user.created_at),
        )


class UserUpdated(Event):
    """An account after a change; ``changed`` names the fields that really changed (a new
    password says ``"password"`` and carries nothing of it)."""

    TYPE = "UserUpdated"
    STREAM = "user-{user_id}"
    user_id: str
    name: str
    email: str
    role: str
    changed: list[str]
    updated_at: str

    @classmethod
    def of(cls, user: User, changed: list[str]) -> Self:
        return cls(
            user_id=user.id,
            name=user.name,
            email=user.email,
            role=user.role,
            changed=changed,
            updated_at=rfc3339(user.updated_at),
        )


class UserDeleted(Event):
    """An account is gone, with every session it had."""

    TYPE = "UserDeleted"
    STREAM = "user-{user_id}"
    user_id: str
    deleted_at: str

    @classmethod
    def of(cls, user_id: str, deleted_at: datetime) -> Self:
        return cls(user_id=user_id, deleted_at=rfc3339(deleted_at))
