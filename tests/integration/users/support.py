"""A small driver over the users API, so tests read as what they check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from gamestore.users.bootstrap import UsersService
from gamestore.users.domain import ADMIN

PASSWORD = "s3cret-Passw0rd!"


def new_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


@dataclass
class UsersApi:
    client: httpx.AsyncClient
    service: UsersService

    async def register(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        email = email or new_email()
        response = await self.client.post(
            "/users", json={"name": "Ada", "email": email, "password": password}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post("/login/auth", json={"email": email, "password": password})

    async def player(self) -> Account:
        """A registered, logged-in player."""
        user = await self.register()
        return await self._logged_in(user["id"], user["email"])

    async def admin(self) -> Account:
        """An admin, created by the same use case ``gamestore admin create`` runs."""
        email = new_email("admin")
        grant = await self.service.accounts.make_admin(email, "Root", PASSWORD)
        return await self._logged_in(grant.user.id, email)

    async def _logged_in(self, user_id: str, email: str) -> Account:
        response = await self.login(email)
        assert response.status_code == 200, response.text
        tokens = response.json()
        return Account(user_id, email, PASSWORD, tokens["access_token"], tokens["refresh_token"])

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.client.post("/login/refresh", json={"refresh_token": refresh_token})


__all__ = ["ADMIN", "PASSWORD", "Account", "UsersApi", "bearer", "new_email"]
