"""The payment worker against the real PSP simulator (served on a free port), the real event store
and the real work queue: every test card ends in the right events, and a duplicated command
charges once. The rig defined here is shared by the other ``test_worker_*`` modules."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.migrations import upgrade
from gamestore.payments import tables
from gamestore.payments.aggregate import Payments
from gamestore.payments.bootstrap import unit_of_work, worker_main
from gamestore.payments.domain import Payment, requested, stream_of
from gamestore.payments.psp_client import ChargeResult
from gamestore.payments.worker import QUEUE, PaymentWorker
from gamestore.platform.config import Settings
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import NO_STREAM, EventStore, RecordedEvent, connect
from gamestore.platform.logs import TextFormatter, correlation
from gamestore.platform.queue import Message, PermanentError, WorkQueue, open_work_queue
from gamestore.platform.uow import NO_RELAY
from gamestore.psp.server import serve
from gamestore.psp.settings import PspSettings
from tests.integration.psp.support import eventually
from tests.ports import free_port

VISA = "pm_card_visa"
PROCESSING_ERROR_CARD = "pm_card_chargeDeclinedProcessingError"
MAX_ATTEMPTS = 3
BASE_DELAY = 0.05
WAIT = 15.0  # seconds for a worker outcome to show
PSP_KEY = "sk_test_rig"  # the PSP's secret API key, known to both sides of the rig
PSP_AUTH = {"Authorization": f"Bearer {PSP_KEY}"}


@asynccontextmanager
async def psp_server(root: Path) -> AsyncIterator[str]:
    """The real PSP simulator over HTTP on a free port; async charges stay ``processing``."""
    settings = PspSettings(
        data_dir=root / "psp",
        log_dir=root / "logs",
        psp_db_url=f"sqlite:///{root / 'psp.db'}",
        psp_webhook_url="http://127.0.0.1:9/webhooks/psp",  # discard port: nobody listens
        psp_async_delay_ms=600_000,
        psp_poll_seconds=0.05,
        psp_api_key=PSP_KEY,
    )
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(serve(settings, "127.0.0.1", port, stop))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as client:
        await eventually(lambda: _healthy(client, task), timeout=WAIT)
    try:
        yield url
    finally:
        stop.set()
        await task


async def _healthy(client: httpx.AsyncClient, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # raises why the PSP did not start
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def worker_lines() -> Iterator[list[str]]:
    """The worker's TXT log lines, as its log file would hold them."""
    lines: list[str] = []
    formatter = TextFormatter("payment-worker")

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))

    logger, handler = logging.getLogger("gamestore.payment-worker"), Collect()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@dataclass
class Rig:
    """A payments world for one test: event store, queue, payments DB, PSP, worker log."""

    root: Path
    settings: Settings
    store: EventStore
    queue: WorkQueue
    engine: AsyncEngine
    psp: httpx.AsyncClient
    lines: list[str]

    async def request(self, method: str = VISA) -> str:
        """A payment as payments starts one: order row, ``PaymentRequested``, its command."""
        pid, oid, now = str(uuid.uuid4()), str(uuid.uuid4()), datetime.now(UTC)
        data = {"payment_id": pid, "order_id": oid, "user_id": str(uuid.uuid4()),
                "game_id": str(uuid.uuid4()), "game_title": "Hades", "amount_cents": 5990,
                "currency": "BRL", "payment_method": method}  # fmt: skip
        order = {k: v for k, v in data.items() if k not in ("payment_id", "payment_method")}
        async with self.engine.begin() as conn:
            await conn.execute(
                tables.payment_orders.insert().values(
                    **order, current_payment_id=pid, paid=False, created_at=now, updated_at=now
                )
            )
        with correlation(f"corr-{pid}"):
            await self.store.append(stream_of(pid), [requested(data)], NO_STREAM)
            await self.queue.enqueue(QUEUE, {"payment_id": pid}, message_id=pid)
        return pid

    async def payment(self, pid: str, until: Callable[[Payment], bool]) -> Payment:
        async def check() -> Payment | None:
            payment = await Payments(self.store).get(pid)
            return payment if until(payment) else None

        result: Payment = await eventually(check, timeout=WAIT)
        return result

    async def events(self, pid: str) -> list[RecordedEvent]:
        return await self.store.read_stream(stream_of(pid))

    async def ledger(self, pid: str) -> list[dict[str, Any]]:
        response = await self.psp.get("/v1/charges", params={"payment_id": pid})
        charges: list[dict[str, Any]] = response.json()["data"]
        return charges

    def psp_keys(self, pid: str) -> list[tuple[str, str]]:
        """(idempotency key, request id) of each charge the PSP stored for ``pid``."""
        with sqlite3.connect(self.root / "psp.db") as conn:
            sql = "SELECT idempotency_key, request_id FROM psp_charges WHERE payment_id = ?"
            return conn.execute(sql, (pid,)).fetchall()

    async def set_order(self, pid: str, **values: Any) -> None:
        orders = tables.payment_orders
        async with self.engine.begin() as conn:
            await conn.execute(
                update(orders).where(orders.c.current_payment_id == pid).values(**values)
            )

    @asynccontextmanager
    async def worker(self) -> AsyncIterator[None]:
        """The worker's ``main`` running in this process until the block ends."""
        stop = asyncio.Event()
        task = asyncio.create_task(worker_main(self.settings, stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    async def drained(self) -> None:
        """Wait until no message of the queue is left to handle (every one acked)."""

        async def empty() -> bool:
            return await self.queue.pending(QUEUE) == 0

        await eventually(empty, timeout=WAIT)


def urls(root: Path, database_url: str | None) -> dict[str, str]:
    """Event store, queue and payments database: one PostgreSQL database, or the embedded
    default's separate SQLite files (events.db, queue.db, payments.db)."""
    names = {"eventstore_url": "events", "queue_url": "queue", "payments": "payments"}
    return {k: database_url or f"sqlite:///{root / 'data' / v}.db" for k, v in names.items()}


@asynccontextmanager
async def rig_at(
    database_url: str | None, root: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Rig]:
    """A rig on ``database_url`` (PostgreSQL) or on the embedded default's SQLite files."""
    places = urls(root, database_url)
    async with psp_server(root) as psp_url:
        monkeypatch.setenv("GAMESTORE_PSP_URL", psp_url)
        monkeypatch.setenv("GAMESTORE_PAYMENTS_DB_URL", places["payments"])
        settings = Settings(
            data_dir=root / "data", log_dir=root / "logs", eventstore_url=places["eventstore_url"],
            queue_url=places["queue_url"], payment_max_attempts=MAX_ATTEMPTS,
            payment_retry_base_seconds=BASE_DELAY, payment_retry_max_seconds=0.2,
            queue_lease_seconds=5, psp_api_key=PSP_KEY,
        )  # fmt: skip
        engine = create_engine(places["payments"])
        await upgrade(engine, "payments")
        store = await connect(settings.event_store_url)
        queue = await open_work_queue(settings)
        try:
            async with httpx.AsyncClient(base_url=psp_url, headers=PSP_AUTH) as psp:
                with worker_lines() as lines:
                    yield Rig(root, settings, store, queue, engine, psp, lines)
        finally:
            await queue.close()
            await store.close()
            await engine.dispose()


@pytest.fixture
async def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    """The rig on the embedded default (SQLite files)."""
    async with rig_at(None, tmp_path, monkeypatch) as made:
        yield made


@pytest.fixture
async def any_rig(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Rig]:
    """The rig on SQLite, then on PostgreSQL."""
    on_sqlite = database_url.startswith("sqlite")
    async with rig_at(None if on_sqlite else database_url, tmp_path, monkeypatch) as made:
        yield made


FINAL_CARDS = {
    VISA: ("succeeded", None, "PaymentSucceeded"),
    "pm_card_chargeDeclined": ("failed", "card_declined", "PaymentFailed"),
    "pm_card_chargeDeclinedInsufficientFunds": ("failed", "insufficient_funds", "PaymentFailed"),
}


async def test_each_card_ends_in_its_events(any_rig: Rig) -> None:
    rig = any_rig
    pids = {card: await rig.request(card) for card in [*FINAL_CARDS, "pm_card_async"]}
    async with rig.worker():
        for card, (status, reason, last) in FINAL_CARDS.items():
            pid = pids[card]
            payment = await rig.payment(pid, lambda p: p.terminal)
            assert (payment.status, payment.failure_reason, payment.attempts) == (status, reason, 1)
            events = await rig.events(pid)
            assert [e.type for e in events] == ["PaymentRequested", "PaymentAttempted", last]
            assert {e.correlation_id for e in events} == {f"corr-{pid}"}
            (charge,) = await rig.ledger(pid)
            assert events[-1].data["charge_id"] == charge["id"]
            assert events[-1].data["source"] == "worker"
            assert rig.psp_keys(pid) == [(pid, f"corr-{pid}")]  # key = payment id; X-Request-ID
        pending = await rig.payment(pids["pm_card_async"], lambda p: p.status == "processing")
        await rig.drained()  # acked: the webhook finishes it
    (charge,) = await rig.ledger(pending.id)
    assert pending.charge_id == charge["id"] and charge["status"] == "processing"
    assert [e.type for e in await rig.events(pending.id)][-1] == "PaymentProcessing"
    for card, pid in pids.items():
        outcome = FINAL_CARDS.get(card, ("processing",))[0].replace("failed", "declined")
        line = next(line for line in rig.lines if f"payment_id={pid}" in line and "attempt" in line)
        assert f"corr=corr-{pid}" in line and "attempt=1" in line and f"outcome={outcome}" in line
    assert not [line for line in rig.lines if "pm_card" in line]  # never the payment method


async def test_a_duplicated_command_charges_once(rig: Rig) -> None:
    pid = await rig.request(VISA)
    for _ in range(3):  # the same command under other ids (RabbitMQ does not dedupe by id)
        await rig.queue.enqueue(QUEUE, {"payment_id": pid}, correlation_id=f"corr-{pid}")
    async with rig.worker():
        await rig.payment(pid, lambda p: p.status == "succeeded")
        await rig.drained()
        await rig.queue.enqueue(QUEUE, {"payment_id": pid})  # one more, after the outcome
        await rig.drained()
    assert len(await rig.ledger(pid)) == 1
    types = [e.type for e in await rig.events(pid)]
    assert types.count("PaymentSucceeded") == 1 and "PaymentAnomalyRecorded" not in types
    assert await rig.queue.dead_letters(QUEUE) == []
    assert any("already final" in line and f"payment_id={pid}" in line for line in rig.lines)


class MisreportingPsp:
    """A PSP that answers a charge with one of another amount than was asked."""

    async def charge(self, request: Any, idempotency_key: str) -> ChargeResult:
        return ChargeResult("succeeded", charge_id="ch_cheap", amount_cents=1, currency="BRL")

    async def find_charge(self, payment_id: str, accept: Any) -> ChargeResult | None:
        return None


async def test_a_psp_answer_of_another_amount_is_an_anomaly_never_a_payment(rig: Rig) -> None:
    pid = await rig.request(VISA)
    worker = PaymentWorker(
        Payments(rig.store),
        unit_of_work(rig.engine, wake=NO_RELAY),
        MisreportingPsp(),  # type: ignore[arg-type]
        max_attempts=MAX_ATTEMPTS,
    )
    message = Message(pid, QUEUE, {"payment_id": pid}, 1, f"corr-{pid}", datetime.now(UTC))
    with pytest.raises(PermanentError, match="not the payment's 5990 BRL"):
        await worker.handle(message)  # the queue dead-letters it: an operator reconciles
    types = [e.type for e in await rig.events(pid)]
    assert types == [
        "PaymentRequested", "PaymentAttempted", "PaymentAnomalyRecorded",
        "PaymentDeadLettered", "PaymentFailed",
    ]  # fmt: skip
    anomaly = (await rig.events(pid))[2].data
    assert (anomaly["reason"], anomaly["charge_id"]) == ("amount_mismatch", "ch_cheap")
    assert (await Payments(rig.store).get(pid)).status == "failed"
