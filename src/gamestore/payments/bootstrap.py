"""The composition roots of the three payments processes.

- ``payments`` (:func:`main`): database, event store, relay, bus consumers, work queue, token
  checks, webhook verification and the app. ``build(settings)`` wires everything and yields a
  running service.
- ``payment-worker`` (:func:`worker_main`): the work queue ``payments`` → PSP charges
  (``payments.worker``), built by :func:`build_worker`.
- ``webhook-function`` (:func:`webhook_function_main`): ``PspWebhookReceived`` → the Payment
  aggregate (``payments.webhook_function``).

Besides HTTP, the ``payments`` process runs three bus consumers, each its own consumer group:

- ``payments``: ``OrderCreated`` → the order's row + its first ``PaymentRequested`` (outbox),
  with the inbox claim, in one transaction (one per page of events);
- ``payment-dispatcher``: ``PaymentRequested`` → the command on the ``payments`` work queue;
- ``payments-view``: every Payment event → the ``payments_view`` row (and ``paid``), a page of
  events per transaction.

Tests enter ``build`` themselves (``consumers=False`` to drive the handlers by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.migrations import open_database
from gamestore.operations.api import router as admin_router
from gamestore.operations.state import OperationsState
from gamestore.payments.aggregate import Payments
from gamestore.payments.api import router
from gamestore.payments.dispatcher import PAYMENT_QUEUE, Dispatcher
from gamestore.payments.errors import install_error_handlers
from gamestore.payments.events import PAYMENT_EVENTS, PaymentRequested, PspWebhookReceived
from gamestore.payments.orders import ORDER_CREATED, Orders, order_created_consumer
from gamestore.payments.projection import PaymentsView
from gamestore.payments.psp_client import PspClient
from gamestore.payments.repository import PaymentsRepo, SqlPaymentsRepo
from gamestore.payments.state import PaymentsState
from gamestore.payments.tables import idempotency_keys, outbox
from gamestore.payments.webhook_function import GROUP, WebhookFunction, already_applied
from gamestore.payments.webhook_inbox import WebhookInbox
from gamestore.payments.webhook_settings import configured_secrets
from gamestore.payments.webhook_signatures import WebhookVerifier
from gamestore.payments.webhooks import router as webhook_router
from gamestore.payments.worker import QUEUE, PaymentWorker
from gamestore.platform.auth import TokenVerifier, users_jwks_verifier
from gamestore.platform.bus import EventBus, connect_bus
from gamestore.platform.config import Settings, scheme
from gamestore.platform.db import ping
from gamestore.platform.dlq import DeadLetters
from gamestore.platform.eventstore import EventStore, RecordedEvent, connect
from gamestore.platform.health import depend_on
from gamestore.platform.http import create_app
from gamestore.platform.http.state import install
from gamestore.platform.idempotency import Idempotency
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import on_scrape
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.queue import (
    RetryPolicy,
    WorkQueue,
    connect_queue,
    open_work_queue,
    sample_queue,
)
from gamestore.platform.service import (
    Consumer,
    ServiceStorage,
    consuming,
    serve_and_consume,
    service_storage,
    watching_bus,
)
from gamestore.platform.uow import NO_RELAY, SqlUnitOfWork

log = get_logger("payments")
DESCRIPTION = "Payments of orders, the PSP's webhooks, and operations (dead letters, events)."


@dataclass(frozen=True)
class PaymentsService:
    app: FastAPI
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    uow: SqlUnitOfWork[PaymentsRepo]
    queue: WorkQueue
    orders: Orders
    view: PaymentsView
    dispatcher: Dispatcher
    webhooks: WebhookInbox

    def consumers(self) -> list[Consumer]:
        """The bus consumers of this process, each fed pages of events."""
        requested = [PaymentRequested.TYPE]
        return [
            Consumer.pages("payments", [ORDER_CREATED], order_created_consumer(self.uow)),
            Consumer.pages("payment-dispatcher", requested, self.dispatcher.handle_batch),
            Consumer.pages("payments-view", PAYMENT_TYPES, self.view.apply_batch),
        ]


PAYMENT_TYPES = [contract.TYPE for contract in PAYMENT_EVENTS]


def unit_of_work(engine: AsyncEngine, *, wake: Callable[[], None]) -> SqlUnitOfWork[PaymentsRepo]:
    """The payments database's unit of work (its outbox, its repository)."""
    return SqlUnitOfWork(engine, outbox, SqlPaymentsRepo, wake=wake)


def _app(verifier: TokenVerifier, state: PaymentsState, operations: OperationsState) -> FastAPI:
    """The app: the payments routes, and the operations routes this process serves."""
    app = create_app(
        "GameStore payments", [router, webhook_router, admin_router], description=DESCRIPTION
    )
    install_error_handlers(app)
    app.state.verifier = verifier
    install(app, state)
    install(app, operations)
    return app


async def open_queue(settings: Settings) -> WorkQueue:
    """The work queue; on RabbitMQ it knows the payment queue for its dead-letter listing."""
    if scheme(settings.work_queue_url) in ("amqp", "amqps"):
        return await connect_queue(settings.work_queue_url, known_queues=(PAYMENT_QUEUE,))
    return await open_work_queue(settings)


def _wire(
    storage: ServiceStorage,
    queue: WorkQueue,
    bus: EventBus,
    verifier: TokenVerifier,
    secrets: list[str],
) -> PaymentsService:
    """The use cases over the opened storage and queue, and the app that serves them."""
    uow = unit_of_work(storage.engine, wake=storage.relay.wake)
    payments = Payments(storage.store)
    hooks = WebhookInbox(
        uow, WebhookVerifier(secrets), already_applied=functools.partial(already_applied, payments)
    )
    orders = Orders(uow, payments)
    view = PaymentsView(storage.engine, storage.store)
    keys = Idempotency(storage.engine, idempotency_keys)
    state = PaymentsState(orders, payments, view, keys, hooks)
    app = _app(verifier, state, OperationsState(DeadLetters(queue, bus), storage.store))
    return PaymentsService(
        app, storage.engine, storage.store, storage.relay, uow, queue, orders, view,
        Dispatcher(queue), hooks,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def build(
    settings: Settings,
    *,
    verifier: TokenVerifier | None = None,
    webhook_secrets: Sequence[str] | None = None,
    consumers: bool = True,
) -> AsyncIterator[PaymentsService]:
    """The wired service, its relay (and, with ``consumers``, its bus consumers) running;
    everything is stopped and closed on exit. ``verifier`` defaults to the users service's
    JWKS, ``webhook_secrets`` to :func:`configured_secrets`."""
    async with contextlib.AsyncExitStack() as stack:
        storage = await stack.enter_async_context(
            service_storage(settings, "payments", outbox.table)
        )
        queue = await open_queue(settings)
        stack.push_async_callback(queue.close)
        depend_on(stack, queue=queue.ping)
        bus = await connect_bus(settings.bus_url, storage.store)  # its dead letters, for admins
        stack.push_async_callback(bus.close)
        secrets = list(webhook_secrets or configured_secrets(settings))
        service = _wire(
            storage, queue, bus, verifier or users_jwks_verifier(storage.revocations), secrets
        )
        if consumers:
            await stack.enter_async_context(consuming(settings, service.store, service.consumers()))
        yield service


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``payments`` process: serve the payments API and run its consumers until ``stop``."""
    async with build(settings, consumers=False) as service:
        consumers = service.consumers()
        await serve_and_consume(service.app, "payments", settings, service.store, consumers, stop)


def retry_policy(settings: Settings) -> RetryPolicy:
    """How the payment queue retries a failed charge (with backoff) before its dead letter."""
    return RetryPolicy(
        max_attempts=settings.payment_max_attempts,
        base_delay=settings.payment_retry_base_seconds,
        max_delay=settings.payment_retry_max_seconds,
    )


@dataclass(frozen=True, slots=True)
class WorkerRuntime:
    """Everything the ``payment-worker`` process opened: the handler and the queue it consumes."""

    worker: PaymentWorker
    queue: WorkQueue
    store: EventStore
    engine: AsyncEngine


@contextlib.asynccontextmanager
async def build_worker(settings: Settings) -> AsyncIterator[WorkerRuntime]:
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
        uow = unit_of_work(engine, wake=NO_RELAY)  # it emits nothing: it only locks an order
        worker = PaymentWorker(
            Payments(store), uow, psp,
            max_attempts=settings.payment_max_attempts,
            outage_budget=settings.payment_psp_outage_budget_seconds,
        )  # fmt: skip
        yield WorkerRuntime(worker, queue, store, engine)


async def worker_main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``payment-worker`` process: consume the queue ``payments`` until ``stop``."""
    worker_log = get_logger("payment-worker")
    async with build_worker(settings) as runtime:
        worker_log.info(
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
    worker_log.info("payment worker stopped")


async def webhook_function_main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``webhook-function`` process: follow the bus until ``stop``."""
    function_log = get_logger("webhook-function")
    async with contextlib.AsyncExitStack() as stack:
        store = await connect(settings.event_store_url)
        stack.push_async_callback(store.close)
        bus = await connect_bus(settings.bus_url, store)
        stack.push_async_callback(bus.close)
        psp = PspClient.configured(settings)
        await psp.start()
        stack.push_async_callback(psp.close)
        depend_on(stack, event_store=store.head, psp=psp.ping)
        stack.enter_context(watching_bus(settings, bus))
        handler = WebhookFunction(Payments(store), psp)
        function_log.info("webhook function consuming", group=GROUP)

        async def handle(event: RecordedEvent) -> None:
            await handler.handle(event)

        await bus.consume(GROUP, [PspWebhookReceived.TYPE], handle, stop=stop)
    function_log.info("webhook function stopped")
