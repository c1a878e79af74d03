"""HTTP routes of the notifier: a player's notifications (``GET /notificacoes``).

The gateway routes ``/notificacoes`` here with the caller's Bearer token; the service checks the
token itself, so a request that bypasses the gateway gets no further.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from gamestore.notifications.notifier import Notifier
from gamestore.platform.auth import CurrentUser
from gamestore.platform.http.params import PageNumber, PageSize
from gamestore.platform.http.state import state_of

router = APIRouter()


class NotificationPublic(BaseModel):
    id: str
    type: str = Field(description="`purchase_completed`, `payment_failed` or `welcome`.")
    message: str = Field(description="What happened, in Brazilian Portuguese.")
    created_at: datetime


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    total: int
    page: int
    size: int


@dataclass(frozen=True)
class NotificationsState:
    """What the notifier's routes use, installed on the app by ``bootstrap``."""

    notifier: Notifier


StateDep = Annotated[NotificationsState, Depends(state_of(NotificationsState))]


@router.get("/notificacoes", response_model=NotificationPage, tags=["notifications"])
async def my_notifications(
    principal: CurrentUser,
    state: StateDep,
    page: PageNumber = 1,
    size: PageSize = 20,
) -> NotificationPage:
    """The caller's notifications, newest first, a page at a time: a completed purchase, a
    refused payment (with the reason), the welcome after sign-up."""
    found, total = await state.notifier.page(principal.user_id, page, size)
    items = [
        NotificationPublic(id=n.id, type=n.type, message=n.message, created_at=n.created_at)
        for n in found
    ]
    return NotificationPage(items=items, total=total, page=page, size=size)
