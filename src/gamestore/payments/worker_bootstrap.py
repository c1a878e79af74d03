"""The ``payment-worker`` process's composition root: the event store, the payments database,
the work queue and the PSP client around :class:`~gamestore.payments.worker.PaymentWorker`,
consuming the queue ``payments`` until stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.migrations import open_database
from gamestore.payments.aggregate import Payments
from gamestore.payments.psp_client import PspClient
from gamestore.payments.worker import QUEUE, PaymentWorker, log
from gamestore.platform.config import Settings
from gamestore.platform.db import ping
from gamestore.platform.eventstore import EventStore, connect
from gamestore.platform.health import depend_on
from gamestore.platform.metrics import on_scrape
from gamestore.platform.queue import RetryPolicy, WorkQueue, open_work_queue, sample_queue


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.payment_max_attempts,
        base_delay=settings.payment_retry_base_seconds,
        max_delay=settings.payment_retry_max_seconds,
    )


@dataclass(frozen=True, slots=True)
class WorkerRuntime:
    """Everything the process opened: the handler and the queue it consumes."""

    worker: PaymentWorker
    queue: WorkQueue
    store: EventStore
    engine: AsyncEngine


@contextlib.asynccontextmanager
async def build(settings: Settings) -> AsyncIterator[WorkerRuntime]:
    """Open the event store, the payments database, the work queue and the PSP client."""
    async with contextlib.AsyncExitStack() as stack:
        store = await connect(settings.event_store_url)
        stack.push_async_callback(store.close)
        engine = await open_database(settings, "payments")
        stack.push_async_callback(engine.dispose)
        queue = await open_work_queue(settings)  # lease: GAMESTORE_QUEUE_LEASE_SECONDS
        stack.push_async_callback(queue.close)
        psp = PspClient.configured(settings)
        await psp.start()
        stack.push_async_callback(psp.close)
        depend_on(
            stack, database=lambda: ping(engine), event_store=store.head, queue=queue.ping,
            psp=psp.ping,
        )  # fmt: skip
        stack.enter_context(on_scrape(lambda: sample_queue(queue, QUEUE)))
        worker = PaymentWorker(
            Payments(store), engine, psp,
            max_attempts=settings.payment_max_attempts,
            outage_budget=settings.payment_psp_outage_budget_seconds,
        )  # fmt: skip
        yield WorkerRuntime(worker, queue, store, engine)


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``payment-worker`` process: consume the queue ``payments`` until ``stop``."""
    async with build(settings) as runtime:
        log.info(
            "payment worker consuming",
            queue=QUEUE,
            psp=settings.psp_url,
            max_attempts=settings.payment_max_attempts,
            concurrency=settings.payment_worker_concurrency,
        )
        await runtime.queue.consume(
            QUEUE,
            runtime.worker.handle,
            stop=stop,
            policy=retry_policy(settings),
            concurrency=settings.payment_worker_concurrency,
        )
    log.info("payment worker stopped")
