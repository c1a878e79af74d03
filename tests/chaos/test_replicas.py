"""Two replicas of every process that scales, started by ``gamestore up --scale``, against one
PostgreSQL and one RabbitMQ; under steady purchase load each replica in turn is SIGKILLed
(the active bus publisher, the payment worker holding a message, an HTTP service with requests
in flight), then the invariants of ``tests/chaos/invariants.py``: nothing lost, nothing doubled,
nobody charged twice, the event store gap-free.

And, because the other replica of an HTTP service is up all along, the gateway never answers
503 for want of a replica it can connect to: a request that reached nobody goes to the live
replica. Only a request in flight on the replica that was killed can get a 503.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.chaos.conftest import Chaos, chaos_running
from tests.chaos.store import RunningStore
from tests.chaos.test_chaos import kill_each, run_case

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

SCALABLE = (
    "bus-publisher", "users", "games", "indexer", "payments", "payment-worker",
    "webhook-function", "notifier", "gateway",
)  # fmt: skip
SCALE = dict.fromkeys(SCALABLE, 2)
# Every replica, one at a time, except the gateway the test's client talks to (the first).
REPLICAS = tuple(key for name in SCALABLE for key in (name, f"{name}-2") if key != "gateway")


@pytest.fixture(scope="module")
def chaos_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    with chaos_running(tmp_path_factory.mktemp("chaos-replicas"), SCALE) as store:
        yield store


def test_up_started_two_of_every_scalable_process(chaos_store: RunningStore) -> None:
    for name in SCALABLE:
        assert {name, f"{name}-2"} <= set(chaos_store.pids), chaos_store.tail()
    assert "psp-2" not in chaos_store.pids


async def test_killing_each_replica_in_turn_loses_and_doubles_nothing(
    chaos: Chaos, client: httpx.AsyncClient
) -> None:
    before = chaos.statuses.copy()
    await run_case(chaos, client, "kill-9-each-replica", kill_each(REPLICAS))
    unreachable = chaos.statuses["503"] - before["503"]
    failures = [
        line for line in chaos.store.log_text("gateway").splitlines()
        if "upstream unreachable" in line
    ]  # fmt: skip
    never_connected = [line for line in failures if "Connect" in line]
    assert not never_connected, f"503 with a replica up: {never_connected}"
    # a 503 only for a request whose replica died with it in flight (nothing to resend to)
    assert unreachable <= len(failures), f"{unreachable} 503s, gateway said {failures}"


async def test_both_users_replicas_sign_tokens_every_replica_accepts(
    chaos: Chaos, client: httpx.AsyncClient
) -> None:
    """Logins alternate between the users replicas; each token works on every service."""
    player = chaos.players[0]
    tokens = []
    for _ in range(4):
        login = await client.post(
            "/login/auth", json={"email": player.email, "password": player.password}
        )
        assert login.status_code == 200, login.text
        tokens.append(login.json()["access_token"])
    for token in tokens:
        auth = {"Authorization": f"Bearer {token}"}
        for path in ("/pedidos", "/biblioteca", "/notificacoes", "/pedidos"):
            response = await client.get(path, headers=auth)
            assert response.status_code == 200, f"{path}: {response.text}"
    logs = [chaos.store.log_text("users"), chaos.store.log_text("users-2")]
    assert all(" login user_id=" in text for text in logs), "a users replica signed no token"
    kids = [set(re.findall(r"users service listening .*kid=(\S+)", text)) for text in logs]
    assert kids[0] == kids[1] and len(kids[0]) == 1, f"the replicas sign with {kids}"
