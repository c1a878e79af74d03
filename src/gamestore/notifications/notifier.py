"""The notifier's use cases: turn one event into one notification; read a player's page.

Per event, in ONE transaction of the notifier's database: the inbox claim of the event id, the
notification row and its ``NotificationSent`` (through the outbox); the bus hands over pages of
events, and a page is one transaction (each event claimed then applied, in order). A redelivered
event finds its claim and adds nothing; a crash before the commit leaves nothing behind, and the
bus delivers the events again; a poison event fails its page, delivered again one event at a
time. A notification another event caused already (the same payment failing again after a
replay) is not written twice. An event without a valid ``user_id`` raises
:class:`~gamestore.notifications.domain.PoisonEvent`: the bus retries it, then dead-letters it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gamestore.notifications import repository as repo
from gamestore.notifications.domain import (
    EVENT_TYPES,
    Notification,
    notification_for,
    notification_sent,
    stream_of,
)
from gamestore.notifications.tables import outbox
from gamestore.platform.bus import EventBus
from gamestore.platform.db import read_only
from gamestore.platform.eventstore import NO_STREAM, RecordedEvent
from gamestore.platform.inbox import claim, idempotent_batch
from gamestore.platform.logs import get_logger
from gamestore.platform.outbox import no_wake

log = get_logger("notifier")
GROUP = "notifier"


class Notifier:
    def __init__(self, engine: AsyncEngine, *, on_commit: Callable[[], None] = no_wake) -> None:
        self._engine = engine
        self._on_commit = on_commit  # wakes the outbox relay
        self._batch = idempotent_batch(engine, GROUP, self.apply, on_commit=on_commit)

    async def handle(self, event: RecordedEvent) -> None:
        """Notify about ``event`` once, whatever the number of deliveries."""
        await self.notify(event)

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        """The bus handler: a page of events in ONE transaction, each claimed then notified."""
        await self._batch(events)

    async def notify(self, event: RecordedEvent) -> Notification | None:
        """The notification ``event`` caused now, or None (a redelivery, an ignored type)."""
        notification = notification_for(event, datetime.now(UTC))
        if notification is None:
            return None
        async with self._engine.begin() as conn:
            if not await claim(conn, GROUP, event.event_id):
                log.info("event already notified", event_id=event.event_id, cause=event.type)
                return None
            await _write(conn, notification, event)
        self._on_commit()
        return notification

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        """Notify about a claimed ``event`` on ``conn`` (nothing for an ignored type)."""
        notification = notification_for(event, datetime.now(UTC))
        if notification is not None:
            await _write(conn, notification, event)

    async def page(self, user_id: str, page: int, size: int) -> tuple[list[Notification], int]:
        """``user_id``'s notifications, newest first; none for an id that is not a UUID."""
        try:
            user_id = str(uuid.UUID(user_id))
        except ValueError:
            return [], 0
        async with read_only(self._engine) as conn:
            return await repo.page_of(conn, user_id, page, size)

    async def consume(
        self, bus: EventBus, stop: asyncio.Event, *, group: str = GROUP, max_attempts: int = 5
    ) -> None:
        """Follow ``group`` on ``bus`` until ``stop``: every event the notifier cares about."""
        log.info("notifier consuming", group=group, types=",".join(EVENT_TYPES))
        await bus.consume_batches(
            group, EVENT_TYPES, self.handle_batch, stop=stop, max_attempts=max_attempts
        )


async def _write(conn: AsyncConnection, notification: Notification, event: RecordedEvent) -> None:
    """The notification row and its ``NotificationSent``, on ``conn`` — nothing when another
    event already caused this very notification (a payment failing again after a replay)."""
    if await repo.exists(conn, notification.id):
        log.info("player already notified of this outcome", cause=event.type,
                 event_id=event.event_id, notification_id=notification.id)  # fmt: skip
        return
    await repo.insert(conn, notification)
    sent = notification_sent(notification, event)
    await outbox.add(conn, stream_of(notification.id), [sent], NO_STREAM)
    log.info(
        "notification sent",
        user_id=notification.user_id,
        type=notification.type,
        cause=event.type,
        notification_id=notification.id,
    )
