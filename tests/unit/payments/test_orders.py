"""Payments' use cases on orders through a FakeUnitOfWork: OrderCreated requests a payment
once per order, and only what commits is emitted."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from gamestore.payments.domain import derived_id, stream_of
from gamestore.payments.orders import CONSUMER, order_created_consumer
from gamestore.payments.repository import InMemoryPaymentsRepo, PaymentsRepo
from gamestore.platform.events import PoisonEvent
from gamestore.platform.eventstore import NO_STREAM, RecordedEvent
from gamestore.platform.uow import FakeUnitOfWork

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def order_created(**overrides: Any) -> RecordedEvent:
    data: dict[str, Any] = {"order_id": str(uuid.uuid4()), "payment_id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()), "game_id": str(uuid.uuid4()), "game_title": "Hades",
            "amount_cents": 5990, "currency": "BRL", "payment_method": "pm_card_visa",
            "status": "pending"} | overrides  # fmt: skip
    return RecordedEvent(
        1, uuid.uuid4(), f"order-{data['order_id']}", 1, "OrderCreated", data, NOW, "corr-1", None
    )


def fake() -> tuple[FakeUnitOfWork[PaymentsRepo], InMemoryPaymentsRepo]:
    """A unit of work for the use case, and its in-memory repository for the assertions."""
    repo = InMemoryPaymentsRepo()
    return FakeUnitOfWork[PaymentsRepo](repo=repo), repo


async def test_order_created_keeps_the_order_and_requests_its_payment() -> None:
    uow, repo = fake()
    event = order_created()
    await order_created_consumer(uow)([event])
    payment_id = event.data["payment_id"]
    [emitted] = uow.committed
    assert (emitted.stream_id, emitted.expected_version) == (stream_of(payment_id), NO_STREAM)
    [requested] = emitted.events
    assert requested.type == "PaymentRequested"
    assert requested.event_id == derived_id(payment_id, "requested")
    assert (requested.causation_id, requested.correlation_id) == (str(event.event_id), "corr-1")
    assert dict(requested.data) == {k: event.data[k] for k in (
        "payment_id", "order_id", "user_id", "game_id", "game_title", "amount_cents",
        "currency", "payment_method")}  # fmt: skip
    order = repo.orders[event.data["order_id"]]
    assert (order.current_payment_id, order.paid) == (payment_id, False)
    assert uow.wakes == 1


async def test_a_redelivered_order_created_emits_nothing() -> None:
    uow, repo = fake()
    event = order_created()
    handle = order_created_consumer(uow)
    await handle([event])
    await handle([event])  # the same event again: its inbox claim is found
    assert uow.types() == ["PaymentRequested"] and uow.wakes == 1
    assert (CONSUMER, event.event_id) in repo.claims


async def test_a_second_order_created_for_a_known_order_emits_nothing() -> None:
    uow, _ = fake()
    first = order_created()
    again = order_created(order_id=first.data["order_id"])  # another event, the same order
    await order_created_consumer(uow)([first, again])
    assert uow.types() == ["PaymentRequested"]
    assert uow.events()[0].data["payment_id"] == first.data["payment_id"]


async def test_an_order_created_without_what_a_payment_needs_is_poison() -> None:
    uow, _ = fake()
    broken = order_created()
    del broken.data["amount_cents"]
    with pytest.raises(PoisonEvent):
        await order_created_consumer(uow)([order_created(), broken])
    assert uow.committed == [] and uow.wakes == 0  # the whole page is rolled back


@pytest.mark.parametrize("broken", [{"amount_cents": "free"}, {"payment_id": None}])
async def test_an_order_created_that_does_not_fit_its_contract_is_poison(
    broken: dict[str, Any],
) -> None:
    uow, repo = fake()
    with pytest.raises(PoisonEvent, match="OrderCreated"):
        await order_created_consumer(uow)([order_created(**broken)])
    assert uow.committed == [] and repo.orders == {}


async def test_another_event_type_on_the_order_created_consumer_is_poison() -> None:
    uow, _ = fake()
    event = replace(order_created(), type="OrderCompleted")
    with pytest.raises(PoisonEvent, match="OrderCompleted"):
        await order_created_consumer(uow)([event])
    assert uow.committed == [] and uow.wakes == 0
