"""Fault injection under steady purchase load, on the production profile, then the invariants.

Each case offers valid-card purchases at a steady rate, injects its fault (the engines
themselves are stopped and restarted; processes are SIGKILLed under the real supervisor), keeps
the load on a little longer, lets every accepted purchase run its course, and checks everything
``tests/chaos/invariants.py`` lists over the store's whole history. The engines are always
restarted, whatever happens (``tests/chaos/engines.py``).

The short form runs in CI; ``GAMESTORE_CHAOS=full make test`` (or ``pytest tests/chaos``) runs
the long form: longer outages, every process killed on its own, twice the rate.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.chaos.conftest import FULL, RATE, Chaos, report
from tests.chaos.engines import PostgreSQL, RabbitMQ
from tests.chaos.invariants import settle, violations
from tests.chaos.load import Load
from tests.e2e.api import Account

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

Fault = Callable[[Chaos], Awaitable[dict[str, Any]]]
WARM, AFTER = 3.0, 5.0  # seconds of load before the fault and after it
SETTLE = 240.0  # seconds every accepted purchase gets to run its course after the load stops
HTTP_PROCESSES = ("users", "games", "payments", "notifier", "psp", "gateway")
PROCESSES = (
    "bus-publisher", "users", "games", "indexer", "psp", "payments", "payment-worker",
    "webhook-function", "notifier", "gateway",
)  # fmt: skip


async def run_case(chaos: Chaos, client: httpx.AsyncClient, name: str, fault: Fault) -> None:
    """Load, fault, load, settle, check; the case's figures are reported either way."""
    await fresh_tokens(client, [chaos.admin, *chaos.players])  # access tokens live 15 minutes
    load = Load(client, chaos.pairs, RATE)
    stop = asyncio.Event()
    offering = asyncio.create_task(load.run(stop))
    began = time.monotonic()
    try:
        await asyncio.sleep(WARM)
        figures = await fault(chaos)
        await asyncio.sleep(AFTER)
    finally:
        stop.set()
        await offering
        await load.settled()
    chaos.purchases += load.purchases
    chaos.statuses += load.statuses
    store = chaos.store
    found, settled_in = await settle(
        client, chaos.purchases, store.psp_url, store.event_store_url, chaos.admin,
        chaos.players, store.psp_auth, timeout=SETTLE,
    )  # fmt: skip
    waits = [p.accepted - p.started for p in load.purchases if p.order_id]
    summary = {
        "case": name,
        "seconds": round(time.monotonic() - began, 1),
        "offered": len(load.purchases),
        "accepted": len(waits),
        "client_statuses": dict(load.statuses),
        "slowest_acceptance_s": round(max(waits, default=0.0), 2),
        "settled_after_load_s": round(settled_in, 1),
        "orders": dict(found.statuses),
        **figures,
    }
    report(json.dumps(summary))
    broken = violations(chaos.purchases, chaos.statuses, found)
    assert not broken, f"{name}: " + "; ".join(broken) + f"\n{summary}\n{store.tail(40)}"


async def fresh_tokens(client: httpx.AsyncClient, accounts: list[Account]) -> None:
    """A new token pair for each account (``POST /login/refresh``), as a client would."""

    async def refresh(account: Account) -> None:
        body = {"refresh_token": account.refresh_token}
        response = await client.post("/login/refresh", json=body)
        assert response.status_code == 200, response.text
        tokens = response.json()
        account.access_token, account.refresh_token = (
            tokens["access_token"],
            tokens["refresh_token"],
        )

    for start in range(0, len(accounts), 10):
        await asyncio.gather(*(refresh(account) for account in accounts[start : start + 10]))


async def _answering(url: str, timeout: float = 60.0) -> None:
    """Until something answers HTTP at ``url`` (any status)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as probe:
        while True:
            try:
                await probe.get(url)
                return
            except httpx.TransportError as error:
                if time.monotonic() > deadline:
                    what = f"nothing answered at {url} within {timeout:.0f} s"
                    raise AssertionError(what) from error
                await asyncio.sleep(0.05)


def _health_url(chaos: Chaos, process: str) -> str:
    env = chaos.store.env
    if process == "gateway":
        return f"{chaos.store.gateway_url}/healthz"
    return f"{env[f'GAMESTORE_{process.upper()}_URL']}/healthz"


async def kill_and_time(chaos: Chaos, process: str) -> float:
    """SIGKILL ``process``; seconds until the supervisor restarted it and (HTTP) it answers."""
    killed = time.monotonic()
    starts = chaos.store.kill(process)
    await asyncio.to_thread(chaos.store.wait_restarted, process, starts)
    if process in HTTP_PROCESSES:
        await _answering(_health_url(chaos, process))
    return round(time.monotonic() - killed, 2)


def postgres_restart() -> Fault:
    async def fault(chaos: Chaos) -> dict[str, Any]:
        began = time.monotonic()
        await asyncio.to_thread(PostgreSQL.restart)
        return {"fault_s": round(time.monotonic() - began, 1)}

    return fault


def postgres_stopped(seconds: float) -> Fault:
    async def fault(chaos: Chaos) -> dict[str, Any]:
        def down() -> None:
            with PostgreSQL.stopped():
                time.sleep(seconds)

        await asyncio.to_thread(down)
        return {"down_s": seconds}

    return fault


def rabbitmq_stopped(seconds: float) -> Fault:
    async def fault(chaos: Chaos) -> dict[str, Any]:
        def down() -> None:
            with RabbitMQ.stopped():
                time.sleep(seconds)

        await asyncio.to_thread(down)
        return {"down_s": seconds}

    return fault


async def _psp(chaos: Chaos, path: str, body: dict[str, Any]) -> None:
    store = chaos.store
    async with httpx.AsyncClient(base_url=store.psp_url, headers=store.psp_auth, timeout=10) as psp:
        response = await psp.post(path, json=body)
        assert response.status_code < 300, response.text


def psp_outage(seconds: float) -> Fault:
    async def fault(chaos: Chaos) -> dict[str, Any]:
        await _psp(chaos, "/v1/_sim/outage", {"seconds": seconds})
        await asyncio.sleep(seconds)
        return {"down_s": seconds}

    return fault


def psp_slower_than_the_worker(seconds: float) -> Fault:
    """Every charge answered after 3 s while the worker waits 2 s (CHAOS_SETTINGS)."""

    async def fault(chaos: Chaos) -> dict[str, Any]:
        await _psp(chaos, "/v1/_sim/latency", {"ms": 3000})
        try:
            await asyncio.sleep(seconds)
        finally:
            await _psp(chaos, "/v1/_sim/latency", {"ms": 0})
        return {"slow_s": seconds, "latency_ms": 3000, "worker_timeout_s": 2}

    return fault


def kill_each(processes: tuple[str, ...]) -> Fault:
    async def fault(chaos: Chaos) -> dict[str, Any]:
        back: dict[str, float] = {}
        for process in processes:
            back[process] = await kill_and_time(chaos, process)
            await asyncio.sleep(2.0)
        return {"killed_to_answering_s": back}

    return fault


def crash_loop(process: str, kills: int) -> Fault:
    """``kills`` SIGKILLs, each as soon as the supervisor has restarted it; it must come back."""

    async def fault(chaos: Chaos) -> dict[str, Any]:
        began = time.monotonic()
        for _ in range(kills):
            starts = chaos.store.kill(process)
            await asyncio.to_thread(chaos.store.wait_restarted, process, starts, 120.0)
        loop_s = time.monotonic() - began
        if process in HTTP_PROCESSES:
            await _answering(_health_url(chaos, process), timeout=120.0)
        return {"kills": kills, "loop_s": round(loop_s, 1)}

    return fault


SHORT: dict[str, Fault] = {
    "postgresql-restart": postgres_restart(),
    "postgresql-stopped-20s": postgres_stopped(20.0),
    "rabbitmq-stopped-10s": rabbitmq_stopped(10.0),
    "psp-outage-30s": psp_outage(30.0),
    "psp-slower-than-worker-timeout-15s": psp_slower_than_the_worker(15.0),
    "kill-9-each-process": kill_each(PROCESSES),
    "crash-loop-notifier-5-kills": crash_loop("notifier", 5),
}
LONG: dict[str, Fault] = {
    "postgresql-stopped-60s": postgres_stopped(60.0),
    "rabbitmq-stopped-60s": rabbitmq_stopped(60.0),
    "psp-outage-120s": psp_outage(120.0),
    "psp-slower-than-worker-timeout-60s": psp_slower_than_the_worker(60.0),
    **{f"kill-9-{name}": kill_each((name,)) for name in PROCESSES},
    "crash-loop-payment-worker-8-kills": crash_loop("payment-worker", 8),
}
CASES = {**SHORT, **(LONG if FULL else {})}


@pytest.mark.parametrize("name", list(CASES))
async def test_the_invariants_hold_through(
    name: str, chaos: Chaos, client: httpx.AsyncClient
) -> None:
    await run_case(chaos, client, name, CASES[name])
