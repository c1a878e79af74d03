"""Request and response bodies of the users API (separate from the tables and the domain).

Every request model forbids unknown fields, so a typo such as ``passwrod`` is a 422 instead of
being silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from gamestore.platform.text import NORMALIZED
from gamestore.users.domain import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    NAME_MAX,
    NAME_PATTERN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    PASSWORD_PATTERN,
    check_email,
    check_password_policy,
)


def _email(value: str) -> str:
    """The domain's check, failing with our own code (``email_invalid``)."""
    try:
        return check_email(value)
    except ValueError:
        raise PydanticCustomError("email_invalid", "value is not a valid email address") from None


def _password(value: str) -> str:
    """The domain's policy, failing with our own code (``password_too_weak``)."""
    try:
        return check_password_policy(value)
    except ValueError as error:
        limits = {"min": PASSWORD_MIN, "max": PASSWORD_MAX}
        raise PydanticCustomError("password_too_weak", str(error), limits) from None


# Every rule is the domain's pattern, so the document states exactly what the service accepts.
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=NAME_MAX), NORMALIZED]
Email = Annotated[
    str,
    StringConstraints(max_length=EMAIL_MAX),
    AfterValidator(_email),  # the pattern, and no final line break, which Python's $ lets by
    Field(
        description="An email address (compared after NFKC normalisation and case folding).",
        json_schema_extra={"pattern": EMAIL_PATTERN},
    ),
]
NewPassword = Annotated[
    str,
    StringConstraints(max_length=PASSWORD_MAX),
    AfterValidator(_password),  # the pattern's three classes, one search each
    Field(
        description="8 to 128 characters with a letter, a digit and a special character.",
        json_schema_extra={"pattern": PASSWORD_PATTERN, "minLength": PASSWORD_MIN},
    ),
]
Role = Literal["player", "admin"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")  # see platform/text


class UserCreate(_Request):
    name: Name
    email: Email
    password: NewPassword


class UserUpdate(_Request):
    """A partial update: only the fields present change."""

    name: Name | None = None
    email: Email | None = None
    password: NewPassword | None = None
    current_password: Annotated[str, StringConstraints(max_length=PASSWORD_MAX)] | None = Field(
        default=None,
        description="Your current password: needed to change your own `password`.",
    )
    role: Role | None = None


class Login(_Request):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX)]


class RefreshRequest(_Request):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class UserPublic(BaseModel):
    id: str
    name: str
    email: str
    role: Role
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserPublic]
    total: int
    page: int
    size: int


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
