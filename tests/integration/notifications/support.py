"""Events as the other services record them (ADR 008), and reads of what the notifier did."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.games.events import PurchaseCompleted
from gamestore.notifications.tables import notifications
from gamestore.payments.events import PaymentFailed
from gamestore.platform.eventstore import ANY, EventStore, NewEvent, RecordedEvent
from gamestore.users.events import UserRegistered

T = TypeVar("T")


def _request_id() -> str:
    """Every event comes from some request and carries its id."""
    return f"req-{uuid.uuid4().hex[:12]}"


def _order(user_id: str, title: str) -> dict[str, Any]:
    """The ids and the price an order's events carry."""
    return {
        "order_id": str(uuid.uuid4()),
        "user_id": user_id,
        "game_id": str(uuid.uuid4()),
        "payment_id": str(uuid.uuid4()),
        "game_title": title,
        "amount_cents": 4990,
        "currency": "BRL",
    }


def purchase_completed(user_id: str, title: str = "Hades", corr: str | None = None) -> NewEvent:
    """A purchase as the games service records it (its contract)."""
    purchase = PurchaseCompleted(**_order(user_id, title))
    return replace(purchase.new_event(), correlation_id=corr or _request_id())


def payment_failed(user_id: str, reason: str, title: str = "Celeste") -> NewEvent:
    """A payment's failure as the payment worker records it (its contract)."""
    failed = PaymentFailed(
        **_order(user_id, title) | {"amount_cents": 2990},
        charge_id=None,
        source="worker",
        reason=reason,
    )
    return replace(failed.new_event(), correlation_id=_request_id())


def user_registered(user_id: str, name: str = "Ana") -> NewEvent:
    """A sign-up as the users service records it (its contract, a user id of any spelling)."""
    registered = UserRegistered(
        user_id=user_id, name=name, email="ana@example.com", role="player",
        created_at="2026-01-02T03:04:05Z",
    )  # fmt: skip
    return replace(registered.new_event(), correlation_id=_request_id())


async def record(store: EventStore, *events: NewEvent) -> list[RecordedEvent]:
    """Append each event to a stream of its own; the recorded events, in order."""
    recorded: list[RecordedEvent] = []
    for event in events:
        recorded += await store.append(f"test-{uuid.uuid4()}", [event], ANY)
    return recorded


async def notification_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(notifications).order_by(notifications.c.created_at))
        return [dict(row._mapping) for row in rows]


async def sent_events(store: EventStore) -> list[RecordedEvent]:
    """Every ``NotificationSent`` in the store, in global order."""
    found: list[RecordedEvent] = []
    after = 0
    while page := await store.read_all(after=after, limit=1000, types=["NotificationSent"]):
        found += page
        after = page[-1].position
    return found


async def eventually(
    check: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 15.0
) -> T:
    """Poll ``check`` until ``ok`` holds of its value; fails with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    value = await check()
    while not ok(value):
        assert time.monotonic() < deadline, f"condition not reached within {timeout} s: {value!r}"
        await asyncio.sleep(0.02)
        value = await check()
    return value
