"""The notifier's database behind one port: its notifications and its inbox.

:class:`NotificationRepository` is what the notifier's use cases need; :class:`SqlNotifications`
answers it on a unit of work's connection; the notifier's unit tests run on an in-memory one
(``tests/unit/notifications``) that passes the same contract test.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.notifications.domain import Notification
from gamestore.notifications.tables import notifications
from gamestore.platform.inbox import claim


class NotificationRepository(Protocol):
    async def claim(self, consumer: str, event_id: uuid.UUID | str) -> bool:
        """True the first time ``consumer`` claims ``event_id`` (the inbox); False after."""

    async def insert(self, notification: Notification) -> None: ...
    async def exists(self, notification_id: str) -> bool: ...

    async def page_of(self, user_id: str, page: int, size: int) -> tuple[list[Notification], int]:
        """One page of ``user_id``'s notifications, newest first, and how many there are."""


def _notification(row: Row[Any]) -> Notification:
    return Notification(
        row.id, row.user_id, row.type, row.message, row.cause_event_id, row.created_at
    )


class SqlNotifications:
    """:class:`NotificationRepository` on a connection, one statement per method."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, consumer: str, event_id: uuid.UUID | str) -> bool:
        return await claim(self._conn, consumer, event_id)

    async def insert(self, notification: Notification) -> None:
        await self._conn.execute(
            notifications.insert().values(
                id=notification.id,
                user_id=notification.user_id,
                type=notification.type,
                message=notification.message,
                cause_event_id=notification.cause_event_id,
                created_at=notification.created_at,
            )
        )

    async def exists(self, notification_id: str) -> bool:
        found = await self._conn.scalar(
            select(notifications.c.id).where(notifications.c.id == notification_id)
        )
        return found is not None

    async def page_of(self, user_id: str, page: int, size: int) -> tuple[list[Notification], int]:
        mine = notifications.c.user_id == user_id
        total = await self._conn.scalar(select(func.count()).select_from(notifications).where(mine))
        rows = await self._conn.execute(
            select(notifications)
            .where(mine)
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
        return [_notification(row) for row in rows], int(total or 0)
