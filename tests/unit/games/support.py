"""Builders for the games use-case tests: a unit of work in memory, valid fields, events."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from gamestore.games.domain import GameFields
from gamestore.games.memory_repository import InMemoryGames
from gamestore.games.repository import GamesRepository
from gamestore.games.saga import PAYMENT_EVENTS
from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.uow import FakeUnitOfWork

FIELDS = GameFields(
    "Celeste", "Climb the mountain.", ("Platformer",), ("PC", "Switch"), 3699,
    date(2018, 1, 25), "Maddy Makes Games", "Maddy Makes Games", ("indie",),
)  # fmt: skip

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def titled(title: str) -> GameFields:
    return replace(FIELDS, title=title)


def memory_uow() -> FakeUnitOfWork[GamesRepository]:
    return FakeUnitOfWork[GamesRepository](repo=InMemoryGames())


def payment_payload(type_: str, **given: Any) -> dict[str, Any]:
    """A whole payload of the payment contract ``type_``: ``given``, and plausible values for
    the keys a test does not care about (the saga reads the ids and the reason). Another type
    (one the saga ignores) is ``given`` alone."""
    contract = PAYMENT_EVENTS.get(type_)
    if contract is None:
        return dict(given)
    filler = {
        "user_id": str(uuid.uuid4()),
        "game_id": str(uuid.uuid4()),
        "game_title": "Celeste",
        "amount_cents": 7990,
        "currency": "BRL",
        "payment_method": "pm_card_visa",
        "charge_id": None,
        "source": "worker",
        "reason": None,
    }
    wanted = {k: v for k, v in filler.items() if k in contract.model_fields} | given
    return contract.model_construct(**wanted).payload()


def payment_event(type_: str, order_id: str, payment_id: str, **data: Any) -> RecordedEvent:
    """A payment event as the bus delivers it (a fresh event id: one delivery of its own)."""
    body = payment_payload(type_, order_id=order_id, payment_id=payment_id, **data)
    stream = f"payment-{payment_id}"
    return RecordedEvent(1, uuid.uuid4(), stream, 1, type_, body, NOW, "corr-7", None)
