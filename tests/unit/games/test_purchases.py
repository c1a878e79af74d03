"""Orders and the purchase saga through an in-memory unit of work: events, the versions they
expect, and a library granted once whatever the bus redelivers."""

from __future__ import annotations

import pytest

from gamestore.games.catalog import Catalog
from gamestore.games.domain import COMPLETED, FAILED, AlreadyOwned, Order, PurchaseInProgress
from gamestore.games.events import OrderCompleted, OrderCreated, OrderFailed, PurchaseCompleted
from gamestore.games.orders import Orders
from gamestore.games.repository import GamesRepository
from gamestore.games.saga import PurchaseSaga
from gamestore.platform.events import PoisonEvent
from gamestore.platform.eventstore import ANY, NO_STREAM
from gamestore.platform.uow import FakeUnitOfWork
from tests.unit.games.support import FIELDS, memory_uow, payment_event


async def _placed(uow: FakeUnitOfWork[GamesRepository], user: str = "user-1") -> Order:
    game = await Catalog(uow).create(FIELDS)
    return await Orders(uow).place(user, game.id, "pm_card_visa")


async def test_an_order_emits_order_created_on_a_new_stream() -> None:
    uow = memory_uow()
    order = await _placed(uow)
    emitted = uow.committed[-1]
    assert (emitted.stream_id, emitted.expected_version) == (order.stream, NO_STREAM)
    created = OrderCreated.parse(emitted.events[0].data)
    assert created == OrderCreated.of(order)
    assert (created.amount_cents, created.payment_method) == (3699, "pm_card_visa")
    assert uow.wakes == 2  # the game's creation, then the order's


async def test_a_second_purchase_of_an_open_order_emits_nothing() -> None:
    uow = memory_uow()
    order = await _placed(uow)
    with pytest.raises(PurchaseInProgress) as caught:
        await Orders(uow).place("user-1", order.game_id, "pm_card_visa")
    assert caught.value.order_id == order.id
    assert uow.types() == ["GameCreated", "OrderCreated"]


async def test_a_payment_success_completes_the_order_and_grants_the_game_once() -> None:
    uow = memory_uow()
    order = await _placed(uow)
    saga = PurchaseSaga(uow)
    success = payment_event("PaymentSucceeded", order.id, order.payment_id)
    await saga.handle(success)
    completed, purchase = uow.committed[-2:]
    assert (completed.stream_id, completed.expected_version) == (order.stream, 1)
    assert OrderCompleted.parse(completed.events[0].data) == OrderCompleted.of(order)
    assert completed.events[0].causation_id == str(success.event_id)
    assert (purchase.stream_id, purchase.expected_version) == ("library-user-1", ANY)
    assert PurchaseCompleted.parse(purchase.events[0].data).game_title == "Celeste"
    wakes = uow.wakes

    await saga.handle(success)  # a redelivery: claimed already
    await saga.handle(payment_event("PaymentSucceeded", order.id, order.payment_id))  # a report
    assert uow.types().count("PurchaseCompleted") == 1 and uow.wakes == wakes
    assert len(await uow.repo.library_of("user-1")) == 1
    with pytest.raises(AlreadyOwned):
        await Orders(uow).place("user-1", order.game_id, "pm_card_visa")


async def test_a_payment_failure_fails_the_pending_order_once() -> None:
    uow = memory_uow()
    order = await _placed(uow)
    saga = PurchaseSaga(uow)
    failure = payment_event("PaymentFailed", order.id, order.payment_id, reason="card_declined")
    await saga.handle_batch([failure, failure])
    emitted = uow.committed[-1]
    assert (emitted.stream_id, emitted.expected_version) == (order.stream, 1)
    failed = OrderFailed.parse(emitted.events[0].data)
    assert (failed.reason, failed.payment_id) == ("card_declined", order.payment_id)
    assert uow.types() == ["GameCreated", "OrderCreated", "OrderFailed"]
    stored = await uow.repo.order_by_id(order.id)
    assert stored is not None and (stored.status, stored.version) == (FAILED, 2)

    success = payment_event("PaymentSucceeded", order.id, order.payment_id)
    await saga.handle(success)  # the money was taken after all: the order completes
    assert uow.committed[-2].expected_version == 2
    stored = await uow.repo.order_by_id(order.id)
    assert stored is not None and stored.status == COMPLETED


async def test_a_page_with_a_poison_event_emits_nothing_and_wakes_nobody() -> None:
    uow = memory_uow()
    order = await _placed(uow)
    success = payment_event("PaymentSucceeded", order.id, order.payment_id)
    with pytest.raises(PoisonEvent):
        await PurchaseSaga(uow).handle_batch([success, payment_event("PaymentFailed", "x", "y")])
    assert uow.types() == ["GameCreated", "OrderCreated"] and uow.wakes == 2
