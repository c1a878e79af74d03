"""Several replicas of a service behind one gateway (``GAMESTORE_<SERVICE>_URL`` listing
several URLs): requests are spread over them, a replica that refuses connections is skipped
and its requests go to another one, and the gateway is ready while one replica is."""

from __future__ import annotations

import hashlib

from tests.integration.gateway.conftest import (
    Keys,
    StartGateway,
    closed_port_url,
    served,
)
from tests.integration.gateway.upstream import Echo


def bearer(keys: Keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.token()}"}


async def test_requests_are_spread_over_the_replicas(
    start_gateway: StartGateway, upstream: tuple[Echo, str], keys: Keys
) -> None:
    first, first_url = upstream
    second = Echo(jwks=keys.jwks)
    async with served(second) as second_url:
        replicas = f"{first_url},{second_url}"
        async with start_gateway(services={"games": replicas}) as client:
            for _ in range(10):
                response = await client.get("/jogos", headers=bearer(keys))
                assert response.status_code == 200
    assert len([s for s in first.seen if s["path"] == "/jogos"]) == 5
    assert len([s for s in second.seen if s["path"] == "/jogos"]) == 5


async def test_a_replica_that_refuses_connections_loses_no_request(
    start_gateway: StartGateway, upstream: tuple[Echo, str], keys: Keys
) -> None:
    """A POST whose replica cannot be connected to has reached nobody: it goes to the next."""
    echo, url = upstream
    body = b'{"order_id": "o-1", "payment_method": "pm_card_visa"}'
    replicas = f"{closed_port_url()},{url},{closed_port_url()}"
    async with start_gateway(services={"payments": replicas}) as client:
        for _ in range(6):
            response = await client.post("/pagamento", content=body, headers=bearer(keys))
            assert response.status_code == 200, response.text
            assert response.json()["body_sha256"] == hashlib.sha256(body).hexdigest()
        ready = await client.get("/readyz")
    assert len([s for s in echo.seen if s["path"] == "/pagamento"]) == 6  # each once
    assert ready.json()["upstreams"]["payments"] == "up"  # one replica up is enough


async def test_when_no_replica_answers_the_client_gets_a_503(
    start_gateway: StartGateway, keys: Keys
) -> None:
    replicas = f"{closed_port_url()},{closed_port_url()}"
    async with start_gateway(services={"games": replicas}) as client:
        response = await client.get("/jogos", headers=bearer(keys))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
