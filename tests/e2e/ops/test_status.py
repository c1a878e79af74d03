"""``gamestore status`` and the admin's ``GET /admin/status`` read a running store: after a
purchase every process is up and ready, has served requests, and every lag is back to 0."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx
import jsonschema_rs
import pytest

from tests.e2e.api import Account, eventually
from tests.e2e.ops.test_health_and_metrics import CHECKS, WAIT
from tests.e2e.saga.support import VISA, bought, new_game, order_reaches
from tests.e2e.stack import Stack

pytestmark = pytest.mark.postgres

GROUPS = {"games", "indexer", "payments", "payment-dispatcher", "payments-view",
          "webhook-function", "notifier"}  # fmt: skip
# A purchase goes through each of these (the PSP simulator, an outside company, keeps no
# request histogram of ours).
SERVED = ("gateway", "users", "games")


async def test_after_a_purchase_every_process_is_up_and_ready_and_every_lag_is_0(
    client: httpx.AsyncClient, admin: Account, player: Account, stack: Stack
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], VISA)
    await order_reaches(client, player, accepted["order_id"], "completed")

    async def settled() -> tuple[int, dict[str, Any]] | None:
        done = await asyncio.to_thread(stack.cli, "status", "--once", "--json")
        summary = json.loads(done.stdout)
        return (done.returncode, summary) if drained(summary["flows"]) else None

    code, summary = await eventually(settled, timeout=WAIT, what="every lag back to 0")
    assert code == 0, summary
    rows = {row["name"]: row for row in summary["processes"]}
    assert set(rows) == set(CHECKS)
    for row in rows.values():
        assert (row["up"], row["alive"], row["ready"], row["down"]) == (True, True, True, []), row
    for name in SERVED:
        assert rows[name]["requests"] > 0 and rows[name]["p95_ms"] is not None, rows[name]
        assert rows[name]["requests_per_second"] is not None, rows[name]
    flows = summary["flows"]
    assert set(flows["consumer_lag_events"]) == GROUPS
    assert set(flows["consumer_lag_seconds"].values()) == {0.0}
    assert set(flows["outbox_backlog"]) == {"users", "games", "payments", "notifier"}
    assert flows["queue_depth"] == {"payments": 0.0}


def drained(flows: Mapping[str, Any]) -> bool:
    """No event waiting for a consumer group or in an outbox, no payment in the queue."""
    waiting = (flows["consumer_lag_events"], flows["outbox_backlog"], flows["queue_depth"])
    return all(value == 0 for figures in waiting for value in figures.values())


async def test_the_admin_reads_the_same_through_the_gateway(
    client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    anonymous = await client.get("/admin/status")
    as_player = await client.get("/admin/status", headers=player.auth)
    as_admin = await client.get("/admin/status", headers=admin.auth)
    assert (anonymous.status_code, as_player.status_code) == (401, 403)
    assert as_admin.status_code == 200, as_admin.text
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/admin/status"]["get"]
    assert {"200", "401", "403"} <= set(operation["responses"])
    schema = {
        **document["components"]["schemas"]["FleetStatus"],
        "components": document["components"],
    }
    assert not list(jsonschema_rs.validator_for(schema).iter_errors(as_admin.json()))
    rows = {row["name"]: row for row in as_admin.json()["processes"]}
    assert set(rows) == set(CHECKS)
    assert all(row["alive"] and row["ready"] for row in rows.values()), rows
    assert rows["gateway"]["requests"] > 0
