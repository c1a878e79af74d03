"""Shared fixtures: real engines, each skipped with a reason when absent.

Under ``GAMESTORE_REQUIRE_SERVICES=1`` (CI) a missing engine is a failure, not a skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gamestore.platform.config import Settings, scheme

REQUIRE_SERVICES = os.environ.get("GAMESTORE_REQUIRE_SERVICES") == "1"

# Tests open fresh databases the way the embedded profile does: whatever opens one migrates it
# to head first. Production processes only check, and refuse a schema behind their code:
# tests/integration/test_migrations.py sets this to 0 to prove that rule.
os.environ.setdefault("GAMESTORE_MIGRATE_ON_START", "1")
POSTGRES_URL = os.environ.get(
    "GAMESTORE_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)
AMQP_URL = os.environ.get("GAMESTORE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require(service: str, url: str, default_port: int) -> None:
    """Skip (or, in CI, fail) when ``service`` does not answer at ``url``."""
    if _reachable(url, default_port):
        return
    reason = f"{service} is not reachable at {url}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} and GAMESTORE_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards."""
    require("PostgreSQL", POSTGRES_URL, 5432)
    import asyncpg

    name = f"gs_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def amqp_url() -> str:
    """The RabbitMQ broker; tests name their exchanges and queues uniquely."""
    require("RabbitMQ", AMQP_URL, 5672)
    return AMQP_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def unique() -> str:
    """A short unique name for queues, groups and streams."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each engine in turn: the same test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    async with fresh_postgres_database() as url:
        yield url


REDIS_URL = os.environ.get("GAMESTORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    """The Redis server; tests use unique key prefixes."""
    require("Redis", REDIS_URL, 6379)
    return REDIS_URL


def service_settings(
    service: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings for ``service`` on ``database_url``, its event store beside it (the same
    PostgreSQL database, or an SQLite file next to the service's)."""
    monkeypatch.setenv(f"GAMESTORE_{service.upper()}_DB_URL", database_url)
    events = database_url if scheme(database_url) != "sqlite" else None
    return Settings(
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
        eventstore_url=events or f"sqlite:///{tmp_path / 'events.db'}",
    )
