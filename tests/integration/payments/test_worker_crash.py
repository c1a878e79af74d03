"""Charges whose answer never reached the worker are never charged twice.

- A payment-worker PROCESS SIGKILLed after the PSP charged and before the outcome and the ack:
  the message comes back, the next worker calls the PSP again with the same key, the PSP replays
  the same charge — one charge in the ledger, one ``PaymentSucceeded``.
- Every answer lost to timeouts: at the last attempt the worker finds the charge in the PSP's
  ledger and takes it as the outcome; if the ledger is unreachable too, the payment is
  dead-lettered, and the replayed dead letter's re-opened payment finds the charge there
  instead of charging under its new key.

The worker reaches the PSP through a test proxy that forwards the charge, then holds the answer
back (a slow network): the ledger shows the charge while the worker still waits for its answer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gamestore.payments.domain import PROCESSING_ERROR
from gamestore.payments.worker import QUEUE
from tests.integration.payments.test_worker import (
    PSP_KEY,
    VISA,
    Rig,
    eventually,
    free_port,
    rig_at,
)

CHILD = (
    "import sys\n"
    "from gamestore.cli.serve import serve_process\n"
    "from gamestore.platform.config import Settings\n"
    "from gamestore.processes import ProcessSpec\n"
    "spec = ProcessSpec('payment-worker', 'gamestore.payments.bootstrap:worker_main')\n"
    "sys.exit(serve_process(spec, Settings()))\n"
)
FORWARDED = ("Idempotency-Key", "X-Request-ID", "Content-Type", "Authorization")


@dataclass
class HoldingProxy:
    """Forwards ``POST /v1/charges`` to the PSP, then keeps the answer until ``release``."""

    psp_url: str
    url: str = ""
    charged: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    hold_ledger: bool = False  # hold ledger lookups too (until release)

    async def ledger(self, request: web.Request) -> web.Response:
        if self.hold_ledger:
            await self.release.wait()
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                self.psp_url + "/v1/charges", params=request.query, headers=_forwarded(request)
            ) as answer,
        ):
            return web.Response(status=answer.status, body=await answer.read())

    async def charge(self, request: web.Request) -> web.Response:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.psp_url + "/v1/charges", data=await request.read(), headers=_forwarded(request)
            ) as answer,
        ):
            status, body = answer.status, await answer.read()
        self.charged.set()
        await self.release.wait()
        return web.Response(status=status, body=body, content_type="application/json")


def _forwarded(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k in FORWARDED}


@asynccontextmanager
async def holding_proxy(psp_url: str) -> AsyncIterator[HoldingProxy]:
    proxy = HoldingProxy(psp_url)
    app = web.Application()
    app.router.add_post("/v1/charges", proxy.charge)
    app.router.add_get("/v1/charges", proxy.ledger)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    proxy.url = f"http://127.0.0.1:{port}"
    try:
        yield proxy
    finally:
        proxy.release.set()
        await runner.cleanup()


@asynccontextmanager
async def worker_process(root: Path, psp_url: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``payment-worker`` as its own OS process, the way ``gamestore serve`` runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMESTORE_")}
    env.update(
        GAMESTORE_DATA_DIR=str(root / "data"),
        GAMESTORE_LOG_DIR=str(root / "logs"),
        GAMESTORE_PSP_URL=psp_url,
        GAMESTORE_QUEUE_LEASE_SECONDS="1",  # a killed worker's message is back after 1 s
        GAMESTORE_PSP_API_KEY=PSP_KEY,
    )
    with (root / "worker.out").open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, env=env, stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.fixture
async def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    async with rig_at(None, tmp_path, monkeypatch) as made:
        yield made


async def test_a_worker_killed_after_the_charge_charges_once(rig: Rig) -> None:
    pid = await rig.request(VISA)
    psp_url = os.environ["GAMESTORE_PSP_URL"]
    async with holding_proxy(psp_url) as proxy, worker_process(rig.root, proxy.url) as child:
        await asyncio.wait_for(proxy.charged.wait(), 30)
        assert len(await rig.ledger(pid)) == 1  # the PSP charged…
        assert [e.type for e in await rig.events(pid)] == ["PaymentRequested"]  # …unrecorded
        child.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
    assert await rig.queue.pending(QUEUE) == 1  # not acked: it comes back

    async with rig.worker():  # the next worker (straight to the PSP)
        payment = await rig.payment(pid, lambda p: p.terminal)
        await rig.drained()
    (charge,) = await rig.ledger(pid)  # exactly one charge
    events = await rig.events(pid)
    assert [e.type for e in events] == ["PaymentRequested", "PaymentAttempted", "PaymentSucceeded"]
    assert payment.status == "succeeded" and events[-1].data["charge_id"] == charge["id"]
    assert events[1].data["attempt"] == 2  # the redelivery
    assert rig.psp_keys(pid) == [(pid, f"corr-{pid}")]
    replay = [line for line in rig.lines if "psp attempt" in line and f"payment_id={pid}" in line]
    assert len(replay) == 1 and "replayed=True" in replay[0]
    killed_log = (rig.root / "logs" / "payment-worker.log").read_text()
    assert "payment worker consuming" in killed_log and "psp attempt" not in killed_log


@asynccontextmanager
async def lost_answers(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, *, hold_ledger: bool
) -> AsyncIterator[HoldingProxy]:
    """The in-process worker behind a proxy that never answers a charge (until released).

    Unanswered calls are not attempts: the worker waits them out for its outage budget (short
    here), then dead-letters the payment unless the ledger shows the charge."""
    async with holding_proxy(os.environ["GAMESTORE_PSP_URL"]) as proxy:
        proxy.hold_ledger = hold_ledger
        monkeypatch.setenv("GAMESTORE_PSP_URL", proxy.url)
        quick = {"psp_timeout_seconds": 0.3, "payment_psp_outage_budget_seconds": 1.5}
        rig.settings = rig.settings.model_copy(update=quick)
        async with rig.worker():
            yield proxy


async def test_a_charge_whose_answers_were_lost_is_found_before_the_dead_letter(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = await rig.request(VISA)
    async with lost_answers(rig, monkeypatch, hold_ledger=False):
        payment = await rig.payment(pid, lambda p: p.terminal)
        await rig.drained()
    (charge,) = await rig.ledger(pid)
    assert (payment.status, payment.charge_id) == ("succeeded", charge["id"])
    types = [e.type for e in await rig.events(pid)]
    assert types == ["PaymentRequested", "PaymentSucceeded"]  # no answer, so no attempt
    assert await rig.queue.dead_letters(QUEUE) == []


async def test_a_charge_whose_answers_were_lost_is_not_repeated_by_a_replay(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = await rig.request(VISA)
    async with lost_answers(rig, monkeypatch, hold_ledger=True) as proxy:
        failed = await rig.payment(pid, lambda p: p.terminal)
        assert (failed.status, failed.failure_reason) == ("failed", PROCESSING_ERROR)
        await eventually(lambda: rig.queue.dead_letters(QUEUE))
        assert len(await rig.ledger(pid)) == 1  # the PSP charged; every answer was lost
        proxy.release.set()  # the network heals; an operator replays the dead letter
        assert await rig.queue.replay(pid)
        payment = await rig.payment(pid, lambda p: p.status == "succeeded")
        await rig.drained()
    (charge,) = await rig.ledger(pid)  # still the one charge
    assert payment.charge_id == charge["id"] and payment.epoch == 1
    assert [key for key, _ in rig.psp_keys(pid)] == [pid]  # nothing under the new key
    types = [e.type for e in await rig.events(pid)]
    assert types[-3:] == ["PaymentReopened", "PaymentAttempted", "PaymentSucceeded"]
    assert any("earlier charge found" in line and f"payment_id={pid}" in line for line in rig.lines)
