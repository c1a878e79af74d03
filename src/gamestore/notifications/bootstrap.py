"""The ``notifier`` process's composition root: database, event store, relay, bus, app.

One process does both halves of the notifier: it follows the consumer group ``notifier`` on the
bus (``PurchaseCompleted``, ``PaymentFailed``, ``UserRegistered`` → notifications) and serves
``GET /notificacoes``. ``build(settings)`` wires the service with its outbox relay running;
tests enter it themselves. ``main`` consumes and serves until ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.notifications.api import NotificationsState, router
from gamestore.notifications.domain import EVENT_TYPES
from gamestore.notifications.notifier import GROUP, Notifier
from gamestore.notifications.repository import NotificationRepository, SqlNotifications
from gamestore.notifications.tables import outbox
from gamestore.platform.auth import TokenVerifier, users_jwks_verifier
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import EventStore
from gamestore.platform.http import create_app
from gamestore.platform.http.state import install
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import OutboxRelay
from gamestore.platform.service import Consumer, serve_and_consume, service_storage
from gamestore.platform.uow import SqlUnitOfWork, UnitOfWork

log = get_logger("notifier")
DESCRIPTION = "Players' notifications: purchases, refused payments, welcome messages."


@dataclass(frozen=True)
class NotifierService:
    app: FastAPI
    engine: AsyncEngine
    store: EventStore
    relay: OutboxRelay
    notifier: Notifier


def _app(verifier: TokenVerifier, notifier: Notifier) -> FastAPI:
    app = create_app("GameStore notifier", [router], description=DESCRIPTION)
    app.state.verifier = verifier
    install(app, NotificationsState(notifier))
    return app


@contextlib.asynccontextmanager
async def build(
    settings: Settings, *, verifier: TokenVerifier | None = None
) -> AsyncIterator[NotifierService]:
    """The wired service with its relay running; everything is closed on exit.

    ``verifier`` defaults to one that fetches the users service's JWKS.
    """
    async with service_storage(settings, "notifier", outbox.table) as storage:
        uow: UnitOfWork[NotificationRepository] = SqlUnitOfWork(
            storage.engine, outbox, SqlNotifications, wake=storage.relay.wake
        )
        notifier = Notifier(uow)
        app = _app(verifier or users_jwks_verifier(storage.revocations), notifier)
        yield NotifierService(app, storage.engine, storage.store, storage.relay, notifier)


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """The ``notifier`` process: consume the bus and serve the API until ``stop``."""
    async with build(settings) as service:
        consumers = [Consumer.pages(GROUP, EVENT_TYPES, service.notifier.handle_batch)]
        await serve_and_consume(service.app, "notifier", settings, service.store, consumers, stop)
    log.info("notifier stopped")
