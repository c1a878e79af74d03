"""The order rules and the saga's decisions, without I/O."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from gamestore.games.domain import (
    COMPLETED,
    FAILED,
    PAYMENT_METHODS,
    PENDING,
    Game,
    GameFields,
    Order,
    new_order,
)
from gamestore.games.events import OrderCreated
from gamestore.games.saga import on_payment_failed, on_payment_requested, on_payment_succeeded
from gamestore.platform.eventstore import RecordedEvent

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def game() -> Game:
    fields = GameFields("Celeste", "", ("Platformer",), ("PC",), 3699, date(2018, 1, 25), "a", "b")
    return Game(str(uuid.uuid4()), fields, 3, NOW, NOW)


def order(**changes: object) -> Order:
    return replace(new_order("user-1", game(), "pm_card_visa", NOW), **changes)  # type: ignore[arg-type]


def cause(type_: str = "PaymentSucceeded") -> RecordedEvent:
    return RecordedEvent(7, uuid.uuid4(), "payment-x", 1, type_, {}, NOW, "corr-1", None)


def test_a_new_order_is_pending_at_the_games_price_with_its_first_payment() -> None:
    g = game()
    o = new_order("user-1", g, "pm_card_async", NOW)
    assert (o.status, o.version, o.amount_cents, o.currency) == (PENDING, 1, 3699, "BRL")
    assert (o.game_id, o.game_title) == (g.id, "Celeste")
    assert uuid.UUID(o.payment_id) and uuid.UUID(o.id) and o.payment_id != o.id
    event = OrderCreated.of(o).new_event()
    assert event.type == "OrderCreated"
    assert event.data["payment_method"] == "pm_card_async"
    assert set(event.data) == {
        "order_id", "user_id", "game_id", "game_title", "amount_cents", "currency",
        "payment_id", "payment_method",
    }  # fmt: skip


def test_the_five_payment_methods_of_the_contract() -> None:
    assert len(PAYMENT_METHODS) == 5 and "pm_card_visa" in PAYMENT_METHODS


def test_success_completes_once_with_both_events() -> None:
    o, why = order(), cause()
    step = on_payment_succeeded(o, o.payment_id, LATER, why)
    assert step.changed and step.order.status == COMPLETED and step.order.version == 2
    assert step.order_event is not None and step.order_event.type == "OrderCompleted"
    assert step.purchase is not None and step.purchase.type == "PurchaseCompleted"
    assert step.purchase.causation_id == str(why.event_id)
    again = on_payment_succeeded(o, o.payment_id, LATER, why)
    assert again.purchase is not None
    assert again.purchase.event_id == step.purchase.event_id  # derived from the cause
    assert not on_payment_succeeded(step.order, o.payment_id, LATER, cause()).changed


def test_a_success_of_any_payment_completes_a_failed_order() -> None:
    o = order(status=FAILED, failure_reason="card_declined")
    step = on_payment_succeeded(o, "other-payment", LATER, cause())
    assert (step.order.status, step.order.payment_id) == (COMPLETED, "other-payment")
    assert step.order.failure_reason is None


def test_failure_applies_only_to_the_current_pending_payment() -> None:
    o = order()
    failed = on_payment_failed(o, o.payment_id, "card_declined", LATER, cause("PaymentFailed"))
    assert (failed.order.status, failed.order.failure_reason) == (FAILED, "card_declined")
    assert failed.order_event is not None and failed.order_event.data["reason"] == "card_declined"
    assert not on_payment_failed(o, "another", "x", LATER, cause()).changed
    assert not on_payment_failed(failed.order, o.payment_id, "x", LATER, cause()).changed
    done = order(status=COMPLETED)
    assert not on_payment_failed(done, done.payment_id, "x", LATER, cause()).changed


def test_a_new_payment_reopens_a_failed_order_without_an_event() -> None:
    o = order(status=FAILED, failure_reason="card_declined", version=2)
    step = on_payment_requested(o, "p2", None, LATER, cause("PaymentRequested"))
    assert (step.order.status, step.order.payment_id, step.order.version) == (PENDING, "p2", 2)
    assert step.order.failure_reason is None and step.order_event is None
    assert not on_payment_requested(o, o.payment_id, None, LATER, cause()).changed
    done = order(status=COMPLETED)
    assert not on_payment_requested(done, "p3", None, LATER, cause()).changed


def test_a_request_whose_payment_already_failed_fails_the_order() -> None:
    o = order(status=FAILED, failure_reason="x", version=2)
    step = on_payment_requested(o, "p2", "insufficient_funds", LATER, cause())
    assert (step.order.status, step.order.payment_id, step.order.version) == (FAILED, "p2", 3)
    assert step.order_event is not None and step.order_event.type == "OrderFailed"
