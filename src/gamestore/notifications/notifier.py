"""The notifier's use cases: turn one event into one notification; read a player's page.

Per event, ONE transaction of the notifier's database: the inbox claim of the event id, the
notification row and its ``NotificationSent`` (through the outbox). A redelivered event finds
its claim and adds nothing; a crash before the commit leaves nothing behind, and the bus
delivers the event again. An event without a valid ``user_id`` raises
:class:`~gamestore.notifications.domain.PoisonEvent`: the bus retries it, then dead-letters it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

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
from gamestore.platform.inbox import claim
from gamestore.platform.logs import get_logger

log = get_logger("notifier")
GROUP = "notifier"


def _nothing() -> None:
    return None


class Notifier:
    def __init__(self, engine: AsyncEngine, *, on_commit: Callable[[], None] = _nothing) -> None:
        self._engine = engine
        self._on_commit = on_commit  # wakes the outbox relay

    async def handle(self, event: RecordedEvent) -> None:
        """The bus handler: notify about ``event`` once, whatever the number of deliveries."""
        await self.notify(event)

    async def notify(self, event: RecordedEvent) -> Notification | None:
        """The notification ``event`` caused now, or None (a redelivery, an ignored type)."""
        notification = notification_for(event, datetime.now(UTC))
        if notification is None:
            return None
        async with self._engine.begin() as conn:
            if not await claim(conn, GROUP, event.event_id):
                log.info("event already notified", event_id=event.event_id, cause=event.type)
                return None
            await repo.insert(conn, notification)
            sent = notification_sent(notification, event)
            await outbox.add(conn, stream_of(notification.id), [sent], NO_STREAM)
        self._on_commit()
        log.info(
            "notification sent",
            user_id=notification.user_id,
            type=notification.type,
            cause=event.type,
            notification_id=notification.id,
        )
        return notification

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
        await bus.consume(group, EVENT_TYPES, self.handle, stop=stop, max_attempts=max_attempts)
