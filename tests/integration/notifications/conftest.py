"""The notifier built by its real composition root, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gamestore.notifications.bootstrap import NotifierService, build
from gamestore.platform.config import Settings
from tests.conftest import service_settings
from tests.integration.games.support import Issuer


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a notifier on ``database_url`` (its event store beside it)."""
    return service_settings("notifier", database_url, tmp_path, monkeypatch)


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
