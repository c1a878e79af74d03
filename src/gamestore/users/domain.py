"""The rules of accounts, free of I/O: names, emails, passwords, who may do what."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from gamestore.platform.ids import canonical_uuid
from gamestore.platform.text import (
    BIDI,
    CONTROL,
    SPACE,
    matches,
    normalized,
    trimmed_pattern,
)

PLAYER = "player"
ADMIN = "admin"
NAME_MAX = 100
PASSWORD_MIN = 8
PASSWORD_MAX = 128  # argon2 cost must not be a function of what a client sends


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


class PasswordRequired(UsersError):
    """Creating an account, or resetting its password, needs a new password."""


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


# Each rule is a pattern (platform/text.py): the same text validates requests and is published
# in the OpenAPI document, so it is spelled in what Python's re and ECMA-262 read alike.
NAME_PATTERN = trimmed_pattern(1)
_LETTER = r"[^\x00-\x40\x5b-\x60\x7b-\x9f]"  # an ASCII letter, or any character past U+009F
_DIGIT = r"[0-9]"
_SPECIAL = r"[^0-9A-Za-z]"  # anything but an ASCII letter or digit
# Published: a letter, a digit and a special character in any order (with min/maxLength). The
# service checks the same three classes one search each, which costs nothing whatever is sent.
PASSWORD_PATTERN = "^(?:{})$".format(
    "|".join(
        "".join(rf"[\s\S]*{part}" for part in order) + r"[\s\S]*"
        for order in itertools.permutations((_LETTER, _DIGIT, _SPECIAL))
    )
)
_ATOM = f'[^{SPACE}@"(),.:;<>\\[\\]\\\\{CONTROL}{BIDI}]+'
# letters of any script (no spaces, punctuation, bidi, surrogates or private use), digits
_DOMAIN_LETTER = r"A-Za-z\u00c0-\u167f\u1681-\u1fff\u2070-\u2fff\u3001-\ud7ff\uf900-\ufffd"
_LABEL = rf"[0-9{_DOMAIN_LETTER}](?:[-0-9{_DOMAIN_LETTER}]{{0,61}}[0-9{_DOMAIN_LETTER}])?"
EMAIL_MAX = 254
EMAIL_PATTERN = rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[{_DOMAIN_LETTER}]{{2,63}}$"


def clean_name(name: str) -> str:
    """A display name: 1..100 characters once trimmed, no control or bidi characters; kept
    trimmed and NFC."""
    if len(name) > NAME_MAX or not matches(NAME_PATTERN, name):
        raise ValueError(f"name must be 1 to {NAME_MAX} characters, without control characters")
    return normalized(name)


def check_password_policy(password: str) -> str:
    """8 to 128 characters with a letter, a digit and a special character (CONTRACT.md), as
    :data:`PASSWORD_PATTERN` states them — checked one class at a time, which costs nothing
    whatever is sent (the published alternation would backtrack)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValueError(f"password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    for rule, what in (
        (_LETTER, "a letter"),
        (_DIGIT, "a digit"),
        (_SPECIAL, "a special character"),
    ):
        if not matches(rule, password):
            raise ValueError(f"password must contain {what}")
    return password


def check_email(email: str) -> str:
    """An address: one ``@``, a local part without spaces, quotes or control characters, a
    domain of letter/digit labels ending in a TLD of 2+ letters."""
    if len(email) > EMAIL_MAX or not matches(EMAIL_PATTERN, email) or email.endswith("\n"):
        raise ValueError("value is not a valid email address")  # ($ lets a final break by)
    return email


def canonical_id(text: str) -> str:
    """A user id in its one spelling; anything that is not a UUID names no user."""
    user_id = canonical_uuid(text)
    if user_id is None:
        raise UserNotFound(text[:64])
    return user_id


def may_see(caller: Caller, user_id: str) -> bool:
    """Self or admin; anyone else is told the user does not exist."""
    return caller.is_admin or caller.user_id == user_id


def check_role_change(caller: Caller, user: User, role: str | None) -> None:
    """Only an admin may change a role (a player re-sending their own role is no change)."""
    if role is not None and role != user.role and not caller.is_admin:
        raise Forbidden("Only an admin may change a role.")


def stream_of(user_id: str) -> str:
    return f"user-{user_id}"


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
