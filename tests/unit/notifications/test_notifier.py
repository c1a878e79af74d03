"""The notifier's use cases through an in-memory unit of work: which notification each event
causes, the ``NotificationSent`` it emits, and what redeliveries and poison pages leave behind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from gamestore.games.events import PurchaseCompleted
from gamestore.notifications.domain import WELCOME
from gamestore.notifications.events import NotificationSent
from gamestore.notifications.notifier import Notifier
from gamestore.notifications.repository import NotificationRepository
from gamestore.payments.events import PaymentFailed
from gamestore.platform.events import PoisonEvent
from gamestore.platform.eventstore import NO_STREAM, RecordedEvent
from gamestore.platform.uow import FakeUnitOfWork
from gamestore.users.events import UserRegistered
from tests.unit.notifications.memory import InMemoryNotifications

UoW = FakeUnitOfWork[NotificationRepository]
USER = str(uuid.uuid4())
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def uow() -> UoW:
    return FakeUnitOfWork(repo=InMemoryNotifications())


def recorded(event_type: str, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(1, uuid.uuid4(), "s-1", 1, event_type, data, NOW, "req-9", None)


def signed_up(user_id: str = USER, name: str = "Ana") -> RecordedEvent:
    registered = UserRegistered(
        user_id=user_id, name=name, email="ana@example.com", role="player",
        created_at="2026-01-02T03:04:05Z",
    )  # fmt: skip
    return recorded(UserRegistered.TYPE, registered.payload())


def order(payment_id: str, title: str) -> dict[str, Any]:
    """The ids and the price an order's events carry."""
    return {"order_id": str(uuid.uuid4()), "user_id": USER, "game_id": str(uuid.uuid4()),
            "payment_id": payment_id, "game_title": title, "amount_cents": 4990,
            "currency": "BRL"}  # fmt: skip


def payment_failed(payment_id: str, reason: str = "card_declined") -> RecordedEvent:
    failed = PaymentFailed(
        **order(payment_id, "Hades"), charge_id=None, source="worker", reason=reason
    )
    return recorded(PaymentFailed.TYPE, failed.payload())


def purchase_completed(title: str) -> RecordedEvent:
    purchase = PurchaseCompleted(**order(str(uuid.uuid4()), title))
    return recorded(PurchaseCompleted.TYPE, purchase.payload())


async def test_a_sign_up_is_welcomed_and_the_sending_is_an_event(uow: UoW) -> None:
    event = signed_up()

    await Notifier(uow).handle(event)

    [notification], total = await Notifier(uow).page(USER, 1, 20)
    assert total == 1 and notification.type == WELCOME
    assert notification.message == "Bem-vindo(a) à GameStore, Ana!"
    [emitted] = uow.committed
    assert emitted.stream_id == f"notification-{notification.id}"
    assert emitted.expected_version == NO_STREAM
    [sent] = emitted.events
    assert NotificationSent.parse(sent.data) == NotificationSent(
        notification_id=notification.id,
        user_id=USER,
        type=WELCOME,
        cause_event_id=str(event.event_id),
    )
    assert (sent.causation_id, sent.correlation_id) == (str(event.event_id), "req-9")
    assert uow.wakes == 1


async def test_a_redelivered_event_adds_nothing_and_wakes_nobody(uow: UoW) -> None:
    event = signed_up()
    await Notifier(uow).handle(event)

    await Notifier(uow).handle(event)
    await Notifier(uow).handle_batch([event, event])

    assert uow.types() == ["NotificationSent"] and uow.wakes == 1
    assert (await Notifier(uow).page(USER, 1, 20))[1] == 1


async def test_a_page_is_one_unit_of_work_and_one_wake(uow: UoW) -> None:
    other = str(uuid.uuid4())
    purchase = purchase_completed("Celeste")

    await Notifier(uow).handle_batch([signed_up(), signed_up(other, "Bia"), purchase])

    assert uow.commits == 1 and uow.wakes == 1
    assert [e.data["type"] for e in uow.events()] == ["welcome", "welcome", "purchase_completed"]


async def test_a_poison_event_fails_its_page_and_nothing_is_emitted(uow: UoW) -> None:
    with pytest.raises(PoisonEvent):
        await Notifier(uow).handle_batch([signed_up(), signed_up("not-a-uuid")])

    assert uow.committed == [] and uow.commits == 0 and uow.wakes == 0


async def test_a_payment_failing_again_after_a_replay_is_not_told_twice(uow: UoW) -> None:
    payment_id = str(uuid.uuid4())
    await Notifier(uow).handle(payment_failed(payment_id))

    await Notifier(uow).handle(payment_failed(payment_id))  # another event, the same outcome

    assert uow.types() == ["NotificationSent"] and uow.wakes == 1
    await Notifier(uow).handle(payment_failed(payment_id, "insufficient_funds"))
    assert len(uow.events()) == 2 and uow.wakes == 2


async def test_other_types_cause_nothing(uow: UoW) -> None:
    await Notifier(uow).handle(recorded("OrderCreated", {"user_id": USER}))

    assert uow.committed == [] and uow.wakes == 0


async def test_a_page_of_notifications_is_newest_first_and_ids_are_canonical(uow: UoW) -> None:
    await Notifier(uow).handle_batch([signed_up(), payment_failed(str(uuid.uuid4()))])

    found, total = await Notifier(uow).page(USER.upper(), 1, 1)

    assert total == 2 and len(found) == 1
    assert await Notifier(uow).page("not-a-uuid", 1, 20) == ([], 0)
