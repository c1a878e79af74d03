"""SQL of the notifier's database, one function per query, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from gamestore.notifications.domain import Notification
from gamestore.notifications.tables import notifications


def _notification(row: Row[Any]) -> Notification:
    return Notification(
        row.id, row.user_id, row.type, row.message, row.cause_event_id, row.created_at
    )


async def insert(conn: AsyncConnection, notification: Notification) -> None:
    await conn.execute(
        notifications.insert().values(
            id=notification.id,
            user_id=notification.user_id,
            type=notification.type,
            message=notification.message,
            cause_event_id=notification.cause_event_id,
            created_at=notification.created_at,
        )
    )


async def exists(conn: AsyncConnection, notification_id: str) -> bool:
    found = await conn.scalar(
        select(notifications.c.id).where(notifications.c.id == notification_id)
    )
    return found is not None


async def page_of(
    conn: AsyncConnection, user_id: str, page: int, size: int
) -> tuple[list[Notification], int]:
    """One page of ``user_id``'s notifications, newest first, and how many there are."""
    mine = notifications.c.user_id == user_id
    total = await conn.scalar(select(func.count()).select_from(notifications).where(mine))
    rows = await conn.execute(
        select(notifications)
        .where(mine)
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    return [_notification(row) for row in rows], int(total or 0)
