"""The users service built by its real composition root, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gamestore.platform.config import Settings, scheme
from gamestore.users.bootstrap import UsersService, build
from tests.integration.users.support import UsersApi

# Cheap argon2 so the suite stays fast; test_passwords checks the production parameters.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 64, "argon2_parallelism": 1}

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SettingsFactory:
    """Settings for a users service on ``database_url`` (its event store beside it)."""
    monkeypatch.setenv("GAMESTORE_USERS_DB_URL", database_url)
    monkeypatch.delenv("GAMESTORE_REDIS_URL", raising=False)
    monkeypatch.delenv("GAMESTORE_JWT_PRIVATE_KEY", raising=False)
    events = database_url if scheme(database_url) != "sqlite" else None

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "log_dir": tmp_path / "logs",
            "eventstore_url": events or f"sqlite:///{tmp_path / 'events.db'}",
            **CHEAP_ARGON2,
            **overrides,
        }
        return Settings(**values)

    return make


@pytest.fixture
async def service(make_settings: SettingsFactory) -> AsyncIterator[UsersService]:
    async with build(make_settings()) as service:
        yield service


@pytest.fixture
async def client(service: UsersService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://users") as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, service: UsersService) -> UsersApi:
    return UsersApi(client, service)
