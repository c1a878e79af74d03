"""The notifier built by its real composition root, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gamestore.notifications.bootstrap import NotifierService, build
from gamestore.platform.config import Settings, scheme
from tests.integration.games.support import Issuer


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a notifier on ``database_url`` (its event store beside it)."""
    monkeypatch.setenv("GAMESTORE_NOTIFIER_DB_URL", database_url)
    events = database_url if scheme(database_url) != "sqlite" else None
    return Settings(
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
        eventstore_url=events or f"sqlite:///{tmp_path / 'events.db'}",
    )


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
async def service(settings: Settings, issuer: Issuer) -> AsyncIterator[NotifierService]:
    async with build(settings, verifier=issuer.verifier()) as service:
        yield service


@pytest.fixture
async def client(service: NotifierService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        yield client
