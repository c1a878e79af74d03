"""The payments process's composition root: database, event store, relay, bus consumers,
work queue, token checks, webhook verification and the app.

``build(settings)`` wires everything and yields a running service; ``main`` serves it over
HTTP. Besides HTTP, the process runs three bus consumers, each its own consumer group:

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
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.payments.admin_api import router as admin_router
from gamestore.payments.aggregate import Payments
from gamestore.payments.api import router
from gamestore.payments.dispatcher import PAYMENT_QUEUE, Dispatcher
from gamestore.payments.domain import PAYMENT_EVENTS, PAYMENT_REQUESTED
from gamestore.payments.errors import install_error_handlers
from gamestore.payments.orders import ORDER_CREATED, Orders, record_order
from gamestore.payments.projection import PaymentsView
from gamestore.payments.tables import idempotency_keys, outbox
from gamestore.payments.webhook_function import already_applied
from gamestore.payments.webhooks import (
    WebhookInbox,
    WebhookVerifier,
    configured_secrets,
)
from gamestore.payments.webhooks import router as webhook_router
from gamestore.platform.auth import TokenVerifier, users_jwks_verifier
from gamestore.platform.bus import EventBus, connect_bus
from gamestore.platform.config import Settings, scheme
from gamestore.platform.dlq import DeadLetters
from gamestore.platform.eventstore import EventStore, RecordedEvent
from gamestore.platform.health import depend_on
from gamestore.platform.http import create_app
from gamestore.platform.idempotency import Idempotency
from gamestore.platform.inbox import idempotent_batch
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.queue import WorkQueue, connect_queue, open_work_queue
from gamestore.platform.service import (
    Consumer,
    ServiceStorage,
    consuming,
    serve_and_consume,
    service_storage,
)

log = get_logger("payments")
DESCRIPTION = "Payments of orders, the PSP's webhooks, and operations (dead letters, events)."


@dataclass(frozen=True)
class PaymentsService:
    app: FastAPI
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    queue: WorkQueue
    orders: Orders
    view: PaymentsView
    dispatcher: Dispatcher
    webhooks: WebhookInbox

    def consumers(self) -> list[Consumer]:
        """The bus consumers of this process, each fed pages of events."""

        async def order_created(conn: AsyncConnection, event: RecordedEvent) -> None:
            await record_order(conn, event)

        orders = idempotent_batch(self.engine, "payments", order_created, on_commit=self.relay.wake)
        return [
            Consumer.pages("payments", [ORDER_CREATED], orders),
            Consumer.pages("payment-dispatcher", [PAYMENT_REQUESTED], self.dispatcher.handle_batch),
            Consumer.pages("payments-view", PAYMENT_EVENTS, self.view.apply_batch),
        ]


def _app(verifier: TokenVerifier, **state: Any) -> FastAPI:
    app = create_app(
        "GameStore payments", [router, webhook_router, admin_router], description=DESCRIPTION
    )
    install_error_handlers(app)
    app.state.verifier = verifier
    for name, value in state.items():
        setattr(app.state, name, value)
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
    wake = storage.relay.wake
    payments = Payments(storage.store)
    hooks = WebhookInbox(
        storage.engine,
        WebhookVerifier(secrets),
        on_commit=wake,
        already_applied=functools.partial(already_applied, payments),
    )
    orders = Orders(storage.engine, payments, on_commit=wake)
    view = PaymentsView(storage.engine, storage.store)
    app = _app(
        verifier,
        orders=orders,
        payments=payments,
        payments_view=view,
        idempotency=Idempotency(storage.engine, idempotency_keys),
        webhook_inbox=hooks,
        queue=queue,
        dead_letters=DeadLetters(queue, bus),
        store=storage.store,
    )
    return PaymentsService(
        app, storage.engine, storage.store, storage.relay, queue, orders, view,
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
