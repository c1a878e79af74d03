"""What the notifier tells a player about an event, in Brazilian Portuguese; no I/O.

Messages are built from the event's own data (ADR 008 lists what each event carries), so the
notifier never reads another service's database. Ids are derived from the cause's event id:
the notification of an event, and its ``NotificationSent``, are the same whoever builds them —
except a payment's failure, whose id is derived from the payment and its reason: an operator's
replay of a dead-lettered payment that fails again records a second ``PaymentFailed``, and the
player, told once already, must not be told twice (:func:`notification_key`).

Each event is read through its producer's contract (``users.events``, ``games.events``,
``payments.events``): one that does not fit it is a :class:`PoisonEvent`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from gamestore.games.events import PurchaseCompleted
from gamestore.notifications.events import NotificationSent
from gamestore.payments.events import PaymentFailed
from gamestore.platform.events import PoisonEvent
from gamestore.platform.eventstore import NewEvent, RecordedEvent
from gamestore.platform.ids import canonical_uuid
from gamestore.users.events import UserRegistered

PURCHASE_COMPLETED = "purchase_completed"
PAYMENT_FAILED = "payment_failed"
WELCOME = "welcome"

KINDS = {
    PurchaseCompleted.TYPE: PURCHASE_COMPLETED,
    PaymentFailed.TYPE: PAYMENT_FAILED,
    UserRegistered.TYPE: WELCOME,
}
"""Event type → notification type (``type`` in ``GET /notificacoes``)."""

EVENT_TYPES = tuple(KINDS)

REASONS = {
    "card_declined": "cartão recusado",
    "insufficient_funds": "saldo insuficiente",
    "processing_error": "erro no processamento do pagamento",
}
"""PSP failure codes in words; an unknown code is shown as it is."""

TEXT_MAX = 200  # a title or a name longer than this is cut (the catalog allows 200)
_NAMESPACE = uuid.UUID("6f1d3c2e-8a47-5b7e-9c1f-2d4e6a8b0c13")


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    user_id: str
    type: str
    message: str
    cause_event_id: str
    created_at: datetime


def notification_for(event: RecordedEvent, now: datetime) -> Notification | None:
    """The notification ``event`` causes (None for a type the notifier ignores).

    :class:`PoisonEvent` when the event does not fit its producer's contract or names no valid
    user to notify."""
    kind = KINDS.get(event.type)
    if kind is None:
        return None
    user_id, message, key = _read(kind, event)
    return Notification(
        id=str(uuid.uuid5(_NAMESPACE, f"notification:{key}")),
        user_id=user_of(user_id),
        type=kind,
        message=message,
        cause_event_id=str(event.event_id),
        created_at=now,
    )


def _read(kind: str, event: RecordedEvent) -> tuple[str, str, str]:
    """Whom ``event`` is about, what to tell them, and what makes that notification one of
    its own, read through the event's contract."""
    if kind == WELCOME:
        registered = UserRegistered.parse(event)
        return registered.user_id, welcome(registered.name), str(event.event_id)
    if kind == PURCHASE_COMPLETED:
        purchase = PurchaseCompleted.parse(event)
        return purchase.user_id, purchased(purchase.game_title), str(event.event_id)
    failed = PaymentFailed.parse(event)
    return (
        failed.user_id,
        payment_refused(failed.game_title, failed.reason),
        notification_key(failed, event),
    )


def notification_key(failed: PaymentFailed, event: RecordedEvent) -> str:
    """What makes a payment's failure one notification: the payment and its reason (one
    "payment failed" per payment and reason, however many times a replay fails it again);
    the event id for a failure that names no payment."""
    payment_id = _text(failed.payment_id)
    if not payment_id:
        return str(event.event_id)
    return f"{PAYMENT_FAILED}:{payment_id}:{_text(failed.reason)}"


def user_of(value: str) -> str:
    """The event's ``user_id`` as a canonical UUID string; :class:`PoisonEvent` otherwise."""
    if not value:
        raise PoisonEvent("the event carries no user_id")
    user_id = canonical_uuid(value)
    if user_id is None:
        raise PoisonEvent(f"user_id is not a UUID: {value[:64]!r}")
    return user_id


def purchased(title: str) -> str:
    """The news that a game is in the player's library, by title when there is one."""
    return f"Compra concluída: {_text(title) or 'seu jogo'} já está na sua biblioteca."


def payment_refused(title: str, reason: str | None) -> str:
    """The news that a payment failed, why, and of which game when the event says."""
    title = _text(title)
    about = f" ({title})" if title else ""
    return f"Pagamento recusado: {reason_text(reason)}{about}."


def welcome(name: str) -> str:
    """The welcome after a sign-up, by name when there is one."""
    name = _text(name)
    return f"Bem-vindo(a) à GameStore, {name}!" if name else "Bem-vindo(a) à GameStore!"


def reason_text(code: str | None) -> str:
    """A payment failure code in Portuguese; an unknown code as it is."""
    text = _text(code)
    if not text:
        return "motivo não informado"
    return REASONS.get(text, text)


def _text(value: str | None) -> str:
    """A single-line, trimmed, bounded piece of event data ('' for nothing)."""
    if value is None:
        return ""
    return " ".join(value.split())[:TEXT_MAX]


def stream_of(notification_id: str) -> str:
    return f"notification-{notification_id}"


def notification_sent(notification: Notification, cause: RecordedEvent) -> NewEvent:
    """``NotificationSent``, caused by ``cause`` and under its correlation id; its id is
    derived from the cause, so a redelivery derives the same one."""
    sent = NotificationSent(
        notification_id=notification.id,
        user_id=notification.user_id,
        type=notification.type,
        cause_event_id=notification.cause_event_id,
    ).new_event(
        event_id=uuid.uuid5(_NAMESPACE, f"NotificationSent:{notification.cause_event_id}"),
        causation_id=str(cause.event_id),
    )
    return replace(sent, correlation_id=cause.correlation_id)
