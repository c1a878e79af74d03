"""One contract for both adapters of the notifier's repository: the SQL one on SQLite and on
PostgreSQL, and the in-memory one the notifier's unit tests run on."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gamestore.notifications.domain import Notification
from gamestore.notifications.repository import NotificationRepository, SqlNotifications
from gamestore.notifications.tables import metadata, outbox
from gamestore.platform.uow import UnitOfWork
from tests.integration.repositories import ADAPTERS, unit_of_work
from tests.unit.notifications.memory import InMemoryNotifications

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
Notifications = UnitOfWork[NotificationRepository]


@pytest.fixture(params=ADAPTERS)
async def uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Notifications]:
    schema = (metadata, outbox)
    adapter: contextlib.AbstractAsyncContextManager[Notifications] = unit_of_work(
        request.param, tmp_path / "notifier.db", schema, SqlNotifications, InMemoryNotifications
    )
    async with adapter as built:
        yield built


def notification(user_id: str, minutes: int) -> Notification:
    at = NOW + timedelta(minutes=minutes)
    return Notification(str(uuid.uuid4()), user_id, "welcome", "Olá", str(uuid.uuid4()), at)


async def test_an_event_is_claimed_once_per_consumer(uow: Notifications) -> None:
    event_id = uuid.uuid4()
    async with uow() as tx:
        assert await tx.repo.claim("notifier", event_id)
        assert not await tx.repo.claim("notifier", str(event_id))
        assert await tx.repo.claim("someone-else", event_id)


async def test_a_players_notifications_newest_first_a_page_at_a_time(uow: Notifications) -> None:
    ana, bia = str(uuid.uuid4()), str(uuid.uuid4())
    old, new, hers = notification(ana, 0), notification(ana, 1), notification(bia, 2)
    async with uow() as tx:
        for each in (old, hers, new):
            await tx.repo.insert(each)
    async with uow.read() as repo:
        assert await repo.exists(old.id) and not await repo.exists(str(uuid.uuid4()))
        assert await repo.page_of(ana, 1, 1) == ([new], 2)
        assert await repo.page_of(ana, 2, 1) == ([old], 2)
        assert await repo.page_of(str(uuid.uuid4()), 1, 20) == ([], 0)
