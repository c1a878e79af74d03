"""The rules of accounts, free of I/O: names, emails, passwords, who may do what, events."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from gamestore.platform.eventstore import NewEvent

PLAYER = "player"
ADMIN = "admin"
NAME_MAX = 100
PASSWORD_MIN = 8


class UsersError(Exception):
    """Base of the domain errors the API maps to problem responses."""


class EmailTaken(UsersError):
    """Another live account uses this email (compared case-insensitively)."""


class UserNotFound(UsersError):
    """No live user with that id, or not one the caller may see."""


class Forbidden(UsersError):
    """The caller may see the user but not make this change."""


class CurrentPasswordRequired(UsersError):
    """Changing one's own password needs the current one, and it was missing or wrong."""


class InvalidCredentials(UsersError):
    """Unknown email or wrong password: deliberately the same error."""


class InvalidRefreshToken(UsersError):
    """Unknown, expired, revoked or already rotated refresh token."""


class TooManyAttempts(UsersError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    email: str
    role: str
    password_hash: str
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def public(self) -> dict[str, object]:
        """What may leave the service: never the hash."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, with the role the database holds now."""

    user_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def normalize_email(email: str) -> str:
    """The uniqueness key of an email: compatibility-normalised (NFKC: a fullwidth ``\\uff41`` is
    an ``a``) and case-folded, so a lookalike of an existing address is the same address."""
    return unicodedata.normalize("NFKC", email).strip().casefold()


def clean_name(name: str) -> str:
    """A display name: stripped, 1..100 characters, no control characters."""
    name = unicodedata.normalize("NFC", name).strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise ValueError(f"name must be 1 to {NAME_MAX} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("name must not contain control characters")
    return name


def check_password_policy(password: str) -> str:
    """At least 8 characters with a letter, a digit and a special character (CONTRACT.md)."""
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"password must have at least {PASSWORD_MIN} characters")
    if not any(c.isalpha() for c in password):
        raise ValueError("password must contain a letter")
    if not any(c.isdigit() for c in password):
        raise ValueError("password must contain a digit")
    if all(c.isalnum() for c in password):
        raise ValueError("password must contain a special character")
    return password


def canonical_id(text: str) -> str:
    """A user id in its one spelling; anything that is not a UUID names no user."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise UserNotFound(text[:64]) from None


def may_see(caller: Caller, user_id: str) -> bool:
    """Self or admin; anyone else is told the user does not exist."""
    return caller.is_admin or caller.user_id == user_id


def check_role_change(caller: Caller, user: User, role: str | None) -> None:
    """Only an admin may change a role (a player re-sending their own role is no change)."""
    if role is not None and role != user.role and not caller.is_admin:
        raise Forbidden("Only an admin may change a role.")


def stream_of(user_id: str) -> str:
    return f"user-{user_id}"


def _state(user: User) -> dict[str, object]:
    return {
        "user_id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
    }


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def user_registered(user: User) -> NewEvent:
    return NewEvent("UserRegistered", {**_state(user), "created_at": rfc3339(user.created_at)})


def user_updated(user: User, changed: list[str]) -> NewEvent:
    """``changed`` names the fields; a password change says so but carries nothing of it."""
    data = {**_state(user), "changed": changed, "updated_at": rfc3339(user.updated_at)}
    return NewEvent("UserUpdated", data)


def user_deleted(user_id: str, deleted_at: datetime) -> NewEvent:
    return NewEvent("UserDeleted", {"user_id": user_id, "deleted_at": rfc3339(deleted_at)})


def apply_changes(
    user: User,
    now: datetime,
    *,
    name: str | None = None,
    email: str | None = None,
    password_hash: str | None = None,
    role: str | None = None,
) -> tuple[User, list[str]]:
    """The user after a partial update, and the names of the fields that really changed."""
    fields: dict[str, str] = {}
    if name is not None and name != user.name:
        fields["name"] = name
    if email is not None and email != user.email:
        fields["email"] = email
    if role is not None and role != user.role:
        fields["role"] = role
    changed = list(fields)
    if password_hash is not None:
        fields["password_hash"] = password_hash
        changed.append("password")
    if not changed:
        return user, []
    updated = replace(user, version=user.version + 1, updated_at=now)
    return replace(updated, **fields), changed  # type: ignore[arg-type]
