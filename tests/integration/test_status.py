"""``gamestore status`` against a fleet of small fake processes on real ports, each answering
``/healthz``, ``/readyz`` and ``/metrics`` in the shapes of the real ones: one down (nothing
listens), one not ready, one with a stuck loop, the rest healthy and busy."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gamestore.platform.config import Settings
from gamestore.platform.fleet_schema import SUMMARY_SCHEMA
from gamestore.platform.supervisor_status import StatusFile
from gamestore.processes import enabled_processes
from tests.integration.serving import serving
from tests.ports import free_port

NAMES = [spec.name for spec in enabled_processes(Settings(bus_url="embedded"))]
LOOPS = {"bus games": {"state": "idle", "busy_seconds": 0.0}}


class FakeProcess:
    """One process's ops endpoints; every scrape finds 10 more requests than the last."""

    def __init__(self, name: str, ready: bool = True, stuck: bool = False) -> None:
        self.name, self.ready, self.stuck = name, ready, stuck
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "gamestore_http_request_duration_seconds", "Requests.",
            ["route", "method", "status_class"], registry=self.registry,
        )  # fmt: skip
        self.gauges = {
            name: Gauge(name, name, [label], registry=self.registry)
            for name, label in FLOW_GAUGES.items()
        }
        for (gauge, label), value in FLOWS.get(name, {}).items():
            self.gauges[gauge].labels(label).set(value)

    def healthz(self) -> Response:
        if self.stuck:
            loops = {"bus games": {"state": "stalled", "busy_seconds": 120.0}}
            return JSONResponse({"status": "stalled", "loops": loops}, 503)
        return JSONResponse({"status": "alive", "loops": LOOPS})

    def readyz(self) -> Response:
        if self.ready:
            return JSONResponse({"status": "ready", "checks": {"database": UP, "event_store": UP}})
        down = {"status": "down", "error": "ConnectionRefusedError: [Errno 111] refused"}
        body = {
            "type": "about:blank", "title": "Service Unavailable", "status": 503,
            "detail": "Not ready: database.", "checks": {"database": down, "event_store": UP},
        }  # fmt: skip
        return JSONResponse(body, 503, media_type="application/problem+json")

    def metrics(self) -> Response:
        for _ in range(10):
            self.requests.labels("/jogos", "GET", "2xx").observe(0.02)
        return PlainTextResponse(generate_latest(self.registry).decode())


UP = {"status": "up", "ms": 1.2}
FLOW_GAUGES = {
    "gamestore_consumer_lag_events": "group",
    "gamestore_consumer_lag_seconds": "group",
    "gamestore_queue_depth_messages": "queue",
    "gamestore_queue_oldest_message_age_seconds": "queue",
    "gamestore_outbox_backlog_events": "service",
    "gamestore_outbox_lag_seconds": "service",
}
FLOWS: dict[str, dict[tuple[str, str], float]] = {
    "games": {("gamestore_consumer_lag_events", "games"): 4.0,
              ("gamestore_consumer_lag_seconds", "games"): 2.5,
              ("gamestore_outbox_backlog_events", "games"): 1.0,
              ("gamestore_outbox_lag_seconds", "games"): 0.5},
    "payment-worker": {("gamestore_queue_depth_messages", "payments"): 3.0,
                       ("gamestore_queue_oldest_message_age_seconds", "payments"): 7.0},
}  # fmt: skip


def fleet_app(processes: Mapping[str, FakeProcess]) -> Starlette:
    """Every fake process under ``/<name>``: its base URL is ``<server>/<name>``."""

    async def answer(request: Request) -> Response:
        process = processes.get(request.path_params["name"])
        endpoint = request.path_params["endpoint"]
        if process is None or endpoint not in ("healthz", "readyz", "metrics"):
            return JSONResponse({"status": 404}, 404)
        page: Response = getattr(process, endpoint)()
        return page

    return Starlette(
        routes=[Route("/ok", lambda _: PlainTextResponse("ok")),
                Route("/{name}/{endpoint}", answer)]
    )  # fmt: skip


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment of a ``gamestore`` whose processes are fakes: ``users`` down (it is
    restarting after its third crash), ``payments`` not ready, ``indexer`` stuck."""
    fakes = {name: FakeProcess(name) for name in NAMES if name != "users"}
    fakes["payments"].ready = False
    fakes["indexer"].stuck = True
    status = StatusFile(tmp_path / "run" / "supervisor.json", NAMES)
    status.running("users", 4242)
    for _ in range(3):
        status.restarting("users", "exit code 1", crashes=1, delay=1.0)
        status.running("users", 4243)
    status.restarting("users", "exit code 1", crashes=4, delay=8.0)
    async with serving(fleet_app(fakes)) as base:
        yield fleet_env(base, tmp_path, {"users": f"http://127.0.0.1:{free_port()}"})


def fleet_env(base: str, data: Path, elsewhere: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMESTORE_")}
    env |= {"GAMESTORE_DATA_DIR": str(data), "GAMESTORE_LOG_DIR": str(data / "logs")}
    for name in NAMES:
        key = "GATEWAY_OPS" if name == "gateway" else name.upper().replace("-", "_")
        env[f"GAMESTORE_{key}_URL"] = elsewhere.get(name, f"{base}/{name}")
    return env


async def gamestore(env: Mapping[str, str], *args: str) -> tuple[int, str]:
    """``python -m gamestore <args>``: its exit code and standard output."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gamestore", *args, env=dict(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    assert not err.strip(), err.decode()  # an unhealthy fleet is an answer, not an error
    return child.returncode, out.decode()


def rows(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in summary["processes"]}


async def test_once_json_names_the_down_the_stuck_and_the_unready(env: dict[str, str]) -> None:
    code, out = await gamestore(env, "status", "--once", "--json")
    assert code == 1, out
    summary = json.loads(out)
    assert not list(jsonschema_rs.validator_for(SUMMARY_SCHEMA).iter_errors(summary))
    every = rows(summary)
    assert list(every) == NAMES
    users, payments, indexer = every["users"], every["payments"], every["indexer"]
    assert (users["up"], users["alive"], users["ready"]) == (False, None, None)
    assert (users["state"], users["restarts"]) == ("restarting", 3)
    assert (payments["up"], payments["alive"], payments["ready"]) == (True, True, False)
    assert payments["down"] == ["database"]
    assert (indexer["up"], indexer["alive"], indexer["ready"]) == (True, False, True)
    for name in set(NAMES) - {"users", "payments", "indexer"}:
        row = every[name]
        assert row["alive"] and row["ready"] and row["down"] == [], row
        assert row["requests"] >= 20 and row["requests_per_second"] > 0, row
        assert row["p95_ms"] == pytest.approx(24.25, abs=0.1), row  # all in the (10, 25] ms bucket
        assert (row["state"], row["restarts"]) == ("starting", 0)


async def test_once_json_gathers_the_flows_of_every_process(env: dict[str, str]) -> None:
    _, out = await gamestore(env, "status", "--once", "--json")
    assert json.loads(out)["flows"] == {
        "consumer_lag_events": {"games": 4.0},
        "consumer_lag_seconds": {"games": 2.5},
        "queue_depth": {"payments": 3.0},
        "queue_oldest_seconds": {"payments": 7.0},
        "dead_letters": 0,
        "outbox_backlog": {"games": 1.0},
        "outbox_lag_seconds": {"games": 0.5},
    }


async def test_a_healthy_fleet_exits_0_and_json_alone_is_one_look(tmp_path: Path) -> None:
    fakes = {name: FakeProcess(name) for name in NAMES}
    async with serving(fleet_app(fakes)) as base:
        code, out = await gamestore(fleet_env(base, tmp_path, {}), "status", "--json")
    assert code == 0, out
    assert all(row["alive"] and row["ready"] for row in json.loads(out)["processes"])


async def test_once_prints_both_tables_with_what_is_wrong(env: dict[str, str]) -> None:
    code, out = await gamestore(env, "status", "--once")
    assert code == 1
    said = ("Processes", "Flows", "DOWN", "STUCK", "NOT READY", "not ready: database",
            "restarting", "consumer games lag", "queue payments", "dead letters")  # fmt: skip
    for words in said:
        assert words in out, (words, out)


async def test_the_dashboard_ends_cleanly_on_ctrl_c(env: dict[str, str]) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gamestore", "status", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await asyncio.sleep(4.0)  # started, and at least one refresh
    child.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(child.communicate(), 15)
    assert child.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert "Processes" in out.decode() and "payments" in out.decode()
