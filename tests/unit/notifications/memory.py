""":class:`~gamestore.notifications.repository.NotificationRepository` in memory, for the
notifier's unit tests: claims once per consumer and event, newest first like the SQL one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from gamestore.notifications.domain import Notification


@dataclass
class InMemoryNotifications:
    notifications: dict[str, Notification] = field(default_factory=dict)
    claims: set[tuple[str, str]] = field(default_factory=set)

    async def claim(self, consumer: str, event_id: uuid.UUID | str) -> bool:
        key = (consumer, str(event_id))
        if key in self.claims:
            return False
        self.claims.add(key)
        return True

    async def insert(self, notification: Notification) -> None:
        self.notifications[notification.id] = notification

    async def exists(self, notification_id: str) -> bool:
        return notification_id in self.notifications

    async def page_of(self, user_id: str, page: int, size: int) -> tuple[list[Notification], int]:
        mine = [n for n in self.notifications.values() if n.user_id == user_id]
        mine.sort(key=lambda n: (n.created_at, n.id), reverse=True)
        return mine[(page - 1) * size : page * size], len(mine)
