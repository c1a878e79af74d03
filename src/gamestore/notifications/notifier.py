"""The notifier's use cases: turn one event into one notification; read a player's page.

Per event, in ONE unit of work of the notifier's database: the inbox claim of the event id, the
notification row and its ``NotificationSent``; the bus hands over pages of events, and a page is
one unit of work (each event claimed then applied, in order; the relay woken once, after the
commit). A redelivered event finds its claim and adds nothing; a crash before the commit leaves
nothing behind, and the bus delivers the events again; a poison event fails its page, delivered
again one event at a time. A notification another event caused already (the same payment
failing again after a replay) is not written twice. An event without a valid ``user_id``, or a
sign-up that does not fit ``UserRegistered``, raises
:class:`~gamestore.platform.events.PoisonEvent`: the bus retries it, then dead-letters it.
"""

from __future__ import annotations

import asyncio

from gamestore.notifications.domain import (
    EVENT_TYPES,
    Notification,
    notification_for,
    notification_sent,
    stream_of,
)
from gamestore.notifications.repository import NotificationRepository
from gamestore.platform.bus import EventBus
from gamestore.platform.clock import utcnow
from gamestore.platform.eventstore import NO_STREAM, RecordedEvent
from gamestore.platform.ids import canonical_uuid
from gamestore.platform.inbox import apply_page
from gamestore.platform.logs import get_logger
from gamestore.platform.uow import Transaction, UnitOfWork

log = get_logger("notifier")
GROUP = "notifier"


class Notifier:
    def __init__(self, uow: UnitOfWork[NotificationRepository]) -> None:
        self._uow = uow

    async def handle(self, event: RecordedEvent) -> None:
        """Notify about ``event`` once, whatever the number of deliveries."""
        await self.handle_batch([event])

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        """The bus handler: a page of events in ONE unit of work, each claimed in the inbox
        (under its correlation id) then notified; a redelivered event finds its claim and is
        skipped. Any event raising rolls the whole page back: the bus retries it event by
        event."""
        await apply_page(self._uow, GROUP, events, _notify)

    async def page(self, user_id: str, page: int, size: int) -> tuple[list[Notification], int]:
        """``user_id``'s notifications, newest first; none for an id that is not a UUID."""
        canonical = canonical_uuid(user_id)
        if canonical is None:
            return [], 0
        async with self._uow.read() as repo:
            return await repo.page_of(canonical, page, size)

    async def consume(
        self, bus: EventBus, stop: asyncio.Event, *, group: str = GROUP, max_attempts: int = 5
    ) -> None:
        """Follow ``group`` on ``bus`` until ``stop``: every event the notifier cares about."""
        log.info("notifier consuming", group=group, types=",".join(EVENT_TYPES))
        await bus.consume_batches(
            group, EVENT_TYPES, self.handle_batch, stop=stop, max_attempts=max_attempts
        )


async def _notify(tx: Transaction[NotificationRepository], event: RecordedEvent) -> None:
    """The notification row and its ``NotificationSent`` — nothing for a type the notifier
    ignores, nor when another event already caused this very notification (a payment failing
    again after a replay)."""
    notification = notification_for(event, utcnow())
    if notification is None:
        return
    if await tx.repo.exists(notification.id):
        log.info("player already notified of this outcome", cause=event.type,
                 event_id=event.event_id, notification_id=notification.id)  # fmt: skip
        return
    await tx.repo.insert(notification)
    tx.emit(stream_of(notification.id), notification_sent(notification, event), NO_STREAM)
    log.info(
        "notification sent",
        user_id=notification.user_id,
        type=notification.type,
        cause=event.type,
        notification_id=notification.id,
    )
