"""Request and response bodies of the users API (separate from the tables and the domain).

Every request model forbids unknown fields, so a typo such as ``passwrod`` is a 422 instead of
being silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from gamestore.users.domain import check_password_policy, clean_name

PASSWORD_MAX = 128  # argon2 cost must not be a function of what a client sends

Name = Annotated[str, StringConstraints(max_length=1000), AfterValidator(clean_name)]
NewPassword = Annotated[
    str, StringConstraints(max_length=PASSWORD_MAX), AfterValidator(check_password_policy)
]
Role = Literal["player", "admin"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_Request):
    name: Name
    email: EmailStr
    password: NewPassword


class UserUpdate(_Request):
    """A partial update: only the fields present change."""

    name: Name | None = None
    email: EmailStr | None = None
    password: NewPassword | None = None
    current_password: Annotated[str, StringConstraints(max_length=PASSWORD_MAX)] | None = Field(
        default=None,
        description="Your current password: needed to change your own `password`.",
    )
    role: Role | None = None


class Login(_Request):
    email: EmailStr
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
