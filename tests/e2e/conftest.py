"""End-to-end fixtures: the real processes, started once per session, and clients for them.

Tests talk to the gateway exactly as a client does (``client``); ``direct`` talks to the users
service itself, bypassing the gateway, to show that a service checks tokens on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.api import Account, new_account, unique_email
from tests.e2e.stack import Stack, running_stack

ADMIN_PASSWORD = "Adm1n!secret"


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Users and gateway on the embedded default (SQLite files under a temporary data dir)."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def create_admin(stack: Stack) -> Account:
    """An admin made with the real CLI, then logged in through the gateway."""
    email = unique_email("admin")
    result = stack.cli("admin", "create", "--email", email, "--password", ADMIN_PASSWORD)
    assert result.returncode == 0, f"admin create failed:\n{result.stdout}\n{result.stderr}"
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as client:
        response = client.post("/login/auth", json={"email": email, "password": ADMIN_PASSWORD})
        assert response.status_code == 200, response.text
        tokens = response.json()
        me = client.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200, me.text
    user = me.json()
    assert user["role"] == "admin", user
    return Account(
        id=user["id"],
        name=user["name"],
        email=email,
        password=ADMIN_PASSWORD,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        role="admin",
    )


@pytest.fixture(scope="package")
def admin(stack: Stack) -> Account:
    return create_admin(stack)


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the public API (the gateway)."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        yield http


@pytest.fixture
async def direct(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the users service itself, bypassing the gateway."""
    async with httpx.AsyncClient(base_url=stack.users_url, timeout=15) as http:
        yield http


@pytest.fixture
async def player(client: httpx.AsyncClient) -> Account:
    """A fresh player, registered and logged in."""
    return await new_account(client)


@pytest.fixture
def log_dir(stack: Stack) -> Path:
    return stack.log_dir
