"""The notifier's rules without I/O: which event says what, to whom, and what is poison."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from gamestore.games.events import PurchaseCompleted
from gamestore.notifications.domain import (
    PAYMENT_FAILED,
    PURCHASE_COMPLETED,
    WELCOME,
    notification_for,
    notification_sent,
    stream_of,
)
from gamestore.payments.events import PaymentFailed
from gamestore.platform.events import PoisonEvent
from gamestore.platform.eventstore import RecordedEvent

USER = str(uuid.uuid4())
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


SIGN_UP = {"name": "Ana", "email": "ana@example.com", "role": "player",
           "created_at": "2026-01-02T03:04:05Z"}  # fmt: skip
"""The rest of a ``UserRegistered`` payload, as the users service stores it."""


def rest_of(event_type: str) -> dict[str, Any]:
    """The rest of a whole payload of ``event_type``, built from its producer's contract: the
    test gives the user, and the title and the reason are blank unless it gives them."""
    ids: dict[str, Any] = {
        "order_id": str(uuid.uuid4()), "game_id": str(uuid.uuid4()), "user_id": USER,
        "payment_id": str(uuid.uuid4()), "game_title": "", "amount_cents": 4990, "currency": "BRL",
    }  # fmt: skip
    if event_type == PurchaseCompleted.TYPE:
        payload = PurchaseCompleted(**ids).payload()
    elif event_type == PaymentFailed.TYPE:
        payload = PaymentFailed(**ids, charge_id=None, source="worker", reason=None).payload()
    elif event_type == "UserRegistered":
        return SIGN_UP
    else:
        return {}
    del payload["user_id"]
    return payload


def recorded(event_type: str, **data: Any) -> RecordedEvent:
    data = {**rest_of(event_type), **data}
    return RecordedEvent(
        position=7,
        event_id=uuid.uuid4(),
        stream_id="s-1",
        version=1,
        type=event_type,
        data=data,
        occurred_at=NOW,
        correlation_id="req-123",
        causation_id=None,
    )


def message(event_type: str, **data: Any) -> str:
    notification = notification_for(recorded(event_type, user_id=USER, **data), NOW)
    assert notification is not None
    return notification.message


def test_a_completed_purchase_names_the_game() -> None:
    event = recorded("PurchaseCompleted", user_id=USER, game_title="Hades", order_id="o-1")
    notification = notification_for(event, NOW)
    assert notification is not None
    assert notification.message == "Compra concluída: Hades já está na sua biblioteca."
    assert notification.type == PURCHASE_COMPLETED
    assert notification.user_id == USER
    assert notification.cause_event_id == str(event.event_id)
    assert notification.created_at == NOW


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("card_declined", "cartão recusado"),
        ("insufficient_funds", "saldo insuficiente"),
        ("processing_error", "erro no processamento do pagamento"),
        ("expired_card", "expired_card"),
    ],
)
def test_a_failed_payment_says_why_in_portuguese(reason: str, words: str) -> None:
    text = message("PaymentFailed", game_title="Celeste", reason=reason)
    assert text == f"Pagamento recusado: {words} (Celeste)."


def test_a_failed_payment_without_reason_or_title_still_reads_well() -> None:
    assert message("PaymentFailed") == "Pagamento recusado: motivo não informado."


def test_a_new_user_is_welcomed_by_name() -> None:
    event = recorded("UserRegistered", user_id=USER, name="Ana", email="ana@example.com")
    notification = notification_for(event, NOW)
    assert notification is not None
    assert notification.message == "Bem-vindo(a) à GameStore, Ana!"
    assert notification.type == WELCOME
    assert "ana@example.com" not in notification.message


def test_missing_names_fall_back_to_a_sentence_without_them() -> None:
    assert message("UserRegistered", name="   ") == "Bem-vindo(a) à GameStore!"
    assert message("PurchaseCompleted") == "Compra concluída: seu jogo já está na sua biblioteca."


def test_event_text_is_kept_on_one_bounded_line() -> None:
    text = message("PurchaseCompleted", game_title="A\nB\t" + "x" * 500)
    assert "\n" not in text and "\t" not in text
    assert len(text) < 300


@pytest.mark.parametrize("user_id", [None, "", "u-1", "x" * 400, 42])
@pytest.mark.parametrize("event_type", ["PurchaseCompleted", "PaymentFailed", "UserRegistered"])
def test_an_event_without_a_valid_user_is_poison(event_type: str, user_id: object) -> None:
    data: dict[str, Any] = {"game_title": "Hades", "reason": "card_declined", **SIGN_UP}
    if user_id is not None:
        data["user_id"] = user_id
    with pytest.raises(PoisonEvent):
        notification_for(recorded(event_type, **data), NOW)


def test_user_ids_are_canonical() -> None:
    upper = str(uuid.uuid4()).upper()
    notification = notification_for(recorded("UserRegistered", user_id=upper, name="A"), NOW)
    assert notification is not None and notification.user_id == upper.lower()


def test_a_sign_up_that_does_not_fit_its_contract_is_poison() -> None:
    event = replace(recorded("UserRegistered", user_id=USER), data={"user_id": USER})
    with pytest.raises(PoisonEvent, match="UserRegistered"):
        notification_for(event, NOW)


def test_other_event_types_cause_nothing() -> None:
    assert notification_for(recorded("OrderCreated", user_id=USER), NOW) is None


def test_ids_derive_from_the_cause() -> None:
    event = recorded("PaymentFailed", user_id=USER, reason="card_declined")
    first, again = notification_for(event, NOW), notification_for(event, NOW)
    assert first is not None and again is not None
    assert first.id == again.id
    other = notification_for(recorded("PaymentFailed", user_id=USER), NOW)
    assert other is not None and other.id != first.id
    assert notification_sent(first, event).event_id == notification_sent(again, event).event_id


def test_notification_sent_carries_the_adr_data_and_the_cause() -> None:
    event = recorded("PurchaseCompleted", user_id=USER, game_title="Hades")
    notification = notification_for(event, NOW)
    assert notification is not None
    sent = notification_sent(notification, event)
    assert sent.type == "NotificationSent"
    assert dict(sent.data) == {
        "notification_id": notification.id,
        "user_id": USER,
        "type": PURCHASE_COMPLETED,
        "cause_event_id": str(event.event_id),
    }
    assert sent.correlation_id == "req-123"
    assert sent.causation_id == str(event.event_id)
    assert stream_of(notification.id) == f"notification-{notification.id}"
    assert PAYMENT_FAILED == "payment_failed"


def test_one_payment_failing_twice_for_one_reason_is_one_notification() -> None:
    def failed(payment_id: str, reason: str) -> str:
        event = recorded("PaymentFailed", user_id=USER, payment_id=payment_id, reason=reason)
        notification = notification_for(event, NOW)
        assert notification is not None
        return notification.id

    first, again = failed("p-1", "processing_error"), failed("p-1", "processing_error")

    assert first == again  # a replay that fails again
    assert failed("p-1", "card_declined") != first  # another outcome
    assert failed("p-2", "processing_error") != first  # another payment


def test_other_notifications_are_one_per_event() -> None:
    def welcome() -> str:
        notification = notification_for(recorded("UserRegistered", user_id=USER), NOW)
        assert notification is not None
        return notification.id

    assert welcome() != welcome()
