"""The payments service built by its real composition root, on SQLite and on PostgreSQL.

``service`` runs without its bus consumers, so tests drive the handlers themselves and see each
step; ``live`` runs them, for the flows that go through the bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gamestore.payments.bootstrap import PaymentsService, build
from gamestore.platform.config import Settings, scheme
from tests.integration.games.support import Issuer
from tests.integration.payments.support import PaymentsApi, new_secret


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a payments service on ``database_url`` (event store and queue beside it)."""
    monkeypatch.setenv("GAMESTORE_PAYMENTS_DB_URL", database_url)
    on_postgres = scheme(database_url) != "sqlite"
    return Settings(
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
        eventstore_url=database_url if on_postgres else f"sqlite:///{tmp_path / 'events.db'}",
        queue_url=database_url if on_postgres else f"sqlite:///{tmp_path / 'queue.db'}",
    )


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def secrets() -> list[str]:
    """The webhook secrets the service accepts (the first one signs by default)."""
    return [new_secret()]


async def _client(service: PaymentsService) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=service.app)
    return httpx.AsyncClient(transport=transport, base_url="http://payments")


@pytest.fixture
async def api(settings: Settings, issuer: Issuer, secrets: list[str]) -> AsyncIterator[PaymentsApi]:
    """The service without its consumers: tests call the handlers."""
    built = build(settings, verifier=issuer.verifier(), webhook_secrets=secrets, consumers=False)
    async with built as service, await _client(service) as client:
        yield PaymentsApi(client, service, issuer, secrets[0])


@pytest.fixture
async def live(
    settings: Settings, issuer: Issuer, secrets: list[str]
) -> AsyncIterator[PaymentsApi]:
    """The service with its bus consumers running."""
    built = build(settings, verifier=issuer.verifier(), webhook_secrets=secrets)
    async with built as service, await _client(service) as client:
        yield PaymentsApi(client, service, issuer, secrets[0])
