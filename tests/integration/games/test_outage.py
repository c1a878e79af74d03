"""An unreachable database answers 503 with Retry-After, never 500; the service comes back by
itself once the database does (no restart)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gamestore.games.bootstrap import build
from tests.conftest import fresh_postgres_database, service_settings
from tests.faultproxy import FaultProxy
from tests.integration.games.support import GamesApi, Issuer, game_body, problem

pytestmark = pytest.mark.postgres


async def test_a_database_outage_is_503_and_the_service_recovers_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = Issuer()
    async with fresh_postgres_database() as url, FaultProxy("127.0.0.1", 5432) as proxy:
        settings = service_settings("games", proxy.rewrite(url), tmp_path, monkeypatch)
        async with build(settings, verifier=issuer.verifier()) as service:
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://games") as client:
                api = GamesApi(client, service, issuer)
                created = await api.create()
                proxy.cut()
                for response in (
                    await client.get("/jogos"),
                    await client.get(f"/jogos/{created['id']}"),
                    await client.post("/jogos", json=game_body(), headers=api.admin),
                ):
                    body = problem(response, 503)
                    assert response.headers["retry-after"] == "2", response.headers
                    assert "Traceback" not in response.text and "asyncpg" not in body["detail"]
                await proxy.restored()
                listed = await client.get("/jogos")
                assert listed.status_code == 200, listed.text
                assert [game["id"] for game in listed.json()["items"]] == [created["id"]]
                await api.create()  # writes work again too
