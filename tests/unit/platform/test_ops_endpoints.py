"""/healthz, /readyz and /metrics, as every process answers them."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Receive, Scope, Send

from gamestore.platform.health import Health
from gamestore.platform.http.ops import OpsEndpoints
from gamestore.platform.metrics import QUEUE_DEPTH, on_scrape


def client(app: OpsEndpoints) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops")


async def test_alive_until_a_loop_stalls() -> None:
    health = Health()
    async with client(OpsEndpoints(health=health)) as ops:
        with health.loop("bus games", stall_after=0.05) as beat, beat.step():
            alive = await ops.get("/healthz")
            await asyncio.sleep(0.1)
            stalled = await ops.get("/healthz")
    assert alive.status_code == 200 and alive.json()["status"] == "alive"
    assert stalled.status_code == 503
    assert stalled.headers["content-type"] == "application/problem+json"
    body = stalled.json()
    assert body["status"] == 503 and body["detail"] == "A loop of this process is stuck."
    assert body["loops"]["bus games"]["state"] == "stalled"


async def test_readiness_is_a_problem_naming_what_is_down() -> None:
    health = Health()

    async def refused() -> None:
        raise ConnectionRefusedError("refused")

    async with client(OpsEndpoints(health=health)) as ops:
        with health.depends_on("database", refused):
            down = await ops.get("/readyz")
        up = await ops.get("/readyz")
    assert down.status_code == 503 and down.json()["detail"] == "Not ready: database."
    assert down.json()["checks"]["database"]["status"] == "down"
    assert down.headers["cache-control"] == "no-store"
    assert up.status_code == 200 and up.json() == {"status": "ready", "checks": {}}


async def test_more_reasons_than_dependencies_can_hold_readiness_back() -> None:
    async def looping(report: dict[str, object]) -> list[str]:
        report["processes"] = {"indexer": "restarting"}
        return ["Restarting after a crash: indexer."]

    async with client(OpsEndpoints(health=Health(), unready=looping)) as ops:
        response = await ops.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == "Restarting after a crash: indexer."
    assert response.json()["processes"] == {"indexer": "restarting"}


async def test_metrics_are_sampled_at_scrape_time_and_a_failing_sampler_costs_nothing_else() -> (
    None
):
    async def depth() -> None:
        QUEUE_DEPTH.labels("ops-test").set(7)

    async def broken() -> None:
        raise ConnectionResetError("gone")

    async with client(OpsEndpoints(health=Health())) as ops:
        with on_scrape(depth), on_scrape(broken):
            response = await ops.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = families["gamestore_queue_depth_messages"].samples
    assert [s.value for s in samples if s.labels == {"queue": "ops-test"}] == [7.0]
    assert "gamestore_http_request_duration_seconds" in families


async def test_without_metrics_the_app_behind_gets_metrics_and_everything_else() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"the app"})

    async with client(OpsEndpoints(app, health=Health(), metrics=False)) as ops:
        metrics = await ops.get("/metrics")
        other = await ops.get("/jogos")
        alive = await ops.get("/healthz")
        posted = await ops.post("/healthz")
    assert (metrics.status_code, other.status_code, posted.status_code) == (418, 418, 418)
    assert alive.status_code == 200


async def test_alone_it_answers_404_elsewhere() -> None:
    async with client(OpsEndpoints(health=Health())) as ops:
        response = await ops.get("/jogos")
    assert response.status_code == 404
