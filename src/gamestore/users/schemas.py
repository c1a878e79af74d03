"""Request and response bodies of the users API (separate from the tables and the domain).

Every request model forbids unknown fields, so a typo such as ``passwrod`` is a 422 instead of
being silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

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

# Every rule is the domain's pattern, so the document states exactly what the service accepts.
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=NAME_MAX), NORMALIZED]
Email = Annotated[
    str,
    StringConstraints(pattern=EMAIL_PATTERN, max_length=EMAIL_MAX),
    AfterValidator(check_email),  # and no final line break, which Python's $ lets by
    Field(description="An email address (compared after NFKC normalisation and case folding)."),
]
NewPassword = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX),
    AfterValidator(check_password_policy),  # the pattern's three classes, one search each
    Field(
        description="8 to 128 characters with a letter, a digit and a special character.",
        json_schema_extra={"pattern": PASSWORD_PATTERN},
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
