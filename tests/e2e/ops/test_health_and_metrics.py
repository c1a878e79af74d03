"""Every process of a running store says whether it is alive and ready, and shows its metrics;
readiness follows a dependency that goes away, and comes back with it."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.e2e.api import Account, eventually
from tests.e2e.ops.support import ops_base, scrape, total
from tests.e2e.saga.support import VISA, bought, new_game, order_reaches
from tests.e2e.stack import Stack

pytestmark = pytest.mark.postgres

CHECKS = {
    "users": {"database", "event_store"},
    "games": {"database", "event_store", "search"},
    "payments": {"database", "event_store", "queue"},
    "notifier": {"database", "event_store"},
    "indexer": {"database", "event_store", "search"},
    "payment-worker": {"database", "event_store", "queue", "psp"},
    "webhook-function": {"event_store", "psp"},
    "psp": {"database"},
    "gateway": {"users", "games", "payments", "notifier"},
}
WAIT = 30.0


async def test_every_process_answers_healthz_readyz_and_metrics(stack: Stack) -> None:
    assert set(stack.processes) == set(CHECKS)
    async with httpx.AsyncClient(timeout=5) as client:
        for process, expected in CHECKS.items():
            base = ops_base(stack, process)
            alive = await client.get(f"{base}/healthz")
            assert alive.status_code == 200, (process, alive.text)
            ready = await client.get(f"{base}/readyz")
            assert ready.status_code == 200, (process, ready.text)
            checks = ready.json()["checks"]
            assert set(checks) == expected, process
            assert all(check["status"] == "up" for check in checks.values()), (process, checks)
            assert await scrape(client, base), process


async def test_the_gateway_keeps_its_metrics_off_its_public_port(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        public = await client.get(f"{stack.gateway_url}/metrics")
        ready = await client.get(f"{stack.gateway_url}/readyz")
    assert public.status_code == 404
    assert ready.status_code == 200 and ready.json()["upstreams"]["games"] == "up"


async def test_a_purchase_moves_the_metrics(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    bases = {process: ops_base(stack, process) for process in CHECKS}
    async with httpx.AsyncClient(timeout=5) as ops:
        before = {p: await scrape(ops, base) for p, base in bases.items()}
        game = await new_game(client, admin)
        accepted = await bought(client, player, game["id"], VISA)
        await order_reaches(client, player, accepted["order_id"], "completed")
        after = {p: await scrape(ops, base) for p, base in bases.items()}

        def rose(process: str, name: str, **labels: str) -> float:
            return total(after[process], name, **labels) - total(before[process], name, **labels)

        assert rose("payment-worker", "gamestore_payments_total", outcome="succeeded") == 1
        assert rose("payment-worker", "gamestore_psp_request_duration_seconds_count") >= 1
        purchase = {"route": "/jogos/compra", "method": "POST", "status_class": "2xx"}
        for process in ("gateway", "games"):
            count = "gamestore_http_request_duration_seconds_count"
            assert rose(process, count, **purchase) == 1, process
        assert rose("payment-worker", "gamestore_queue_messages_total", outcome="handled") >= 1
        assert rose("games", "gamestore_consumer_deliveries_total", outcome="handled") >= 1
        assert rose("games", "gamestore_outbox_relayed_events_total") >= 2

        async def caught_up() -> bool:
            lags = [
                total(await scrape(ops, bases[p]), name)
                for p in ("games", "payments", "notifier", "indexer")
                for name in ("gamestore_consumer_lag_events", "gamestore_outbox_backlog_events")
            ]
            return all(lag == 0 for lag in lags)

        await eventually(caught_up, timeout=WAIT, what="every lag and backlog back to 0")
        queue = await scrape(ops, bases["payment-worker"])
        assert total(queue, "gamestore_queue_depth_messages", queue="payments") == 0


async def test_a_service_whose_database_is_gone_is_alive_but_not_ready(stack: Stack) -> None:
    games = ops_base(stack, "games")
    database = stack.env["GAMESTORE_GAMES_DB_URL"].rsplit("/", 1)[-1]
    async with httpx.AsyncClient(timeout=10) as client:
        await _allow_connections(database, False)
        try:
            down = await eventually(lambda: _unready(client, games), timeout=WAIT, what="503")
            assert down.headers["content-type"] == "application/problem+json"
            body = down.json()
            assert body["detail"] == "Not ready: database." and body["down"] == ["database"]
            assert body["checks"]["database"]["status"] == "down"
            assert body["checks"]["event_store"]["status"] == "up"
            assert (await client.get(f"{games}/healthz")).status_code == 200
            gateway = await eventually(
                lambda: _unready(client, stack.gateway_url), timeout=WAIT, what="gateway 503"
            )
            assert gateway.json()["upstreams"]["games"] == "down"
            assert "games" in gateway.json()["detail"]
        finally:
            await _allow_connections(database, True)
        for base in (games, stack.gateway_url):
            await eventually(lambda b=base: _ready(client, b), timeout=WAIT, what="ready again")
    assert stack.processes["games"].poll() is None, "the games process died"


async def test_the_payment_worker_is_not_ready_while_the_psp_is_down(stack: Stack) -> None:
    worker = ops_base(stack, "payment-worker")
    stack.kill("psp")
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            down = await eventually(lambda: _unready(client, worker), timeout=WAIT, what="503")
            assert down.json()["down"] == ["psp"]
            assert (await client.get(f"{worker}/healthz")).status_code == 200
    finally:
        stack.restart("psp")
    async with httpx.AsyncClient(timeout=10) as client:
        await eventually(lambda: _ready(client, worker), timeout=WAIT, what="ready again")


async def _unready(client: httpx.AsyncClient, base: str) -> httpx.Response | None:
    response = await client.get(f"{base}/readyz")
    return response if response.status_code == 503 else None


async def _ready(client: httpx.AsyncClient, base: str) -> bool:
    return (await client.get(f"{base}/readyz")).status_code == 200


async def _allow_connections(database: str, allowed: bool) -> None:
    """Take one service's PostgreSQL database away (its connections cut, new ones refused),
    or give it back, leaving every other database of the server alone."""
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
    finally:
        await admin.close()
