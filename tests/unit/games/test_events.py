"""The games service's event contracts keep the stored shapes the events always had.

Each expected payload below is what the producer stored before the contracts existed (for
game events, ``Game.public()`` of the same game): a contract that drifts from it would change
every consumer's input and the event store's history.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from gamestore.games.covers.urls import UploadedCover
from gamestore.games.domain import Game, GameFields, Order, delisted
from gamestore.games.events import (
    GameCreated,
    GameDeleted,
    GameUpdated,
    OrderCompleted,
    OrderCreated,
    OrderFailed,
    PurchaseCompleted,
)
from gamestore.platform.events import PoisonEvent

GAME_ID = "6f1c2a9e-8d4b-4c5e-9f3a-1b2c3d4e5f60"
FIELDS = GameFields(
    "Hollow Knight", "Descend into Hallownest.", ("Metroidvania", "Action"), ("PC", "Switch"),
    4699, date(2017, 2, 24), "Team Cherry", "Team Cherry", ("indie",),
)  # fmt: skip
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GAME = Game(
    GAME_ID, FIELDS, 3, CREATED, datetime(2026, 1, 3, 4, 5, 6, 123456, tzinfo=UTC), None,
    UploadedCover("0123456789abcdef0123", ((320, 180), (640, 360))),
)  # fmt: skip
BASE = f"/jogos/{GAME_ID}/capa/"
STORED_GAME: dict[str, Any] = {  # GAME.public(), as it stood when events were built from it
    "id": GAME_ID,
    "title": "Hollow Knight",
    "description": "Descend into Hallownest.",
    "genres": ["Metroidvania", "Action"],
    "platforms": ["PC", "Switch"],
    "price_cents": 4699,
    "currency": "BRL",
    "release_date": "2017-02-24",
    "developer": "Team Cherry",
    "publisher": "Team Cherry",
    "tags": ["indie"],
    "cover": {
        "url": f"{BASE}0123456789abcdef0123-640.jpg",
        "srcset": f"{BASE}0123456789abcdef0123-320.jpg 320w, "
        f"{BASE}0123456789abcdef0123-640.jpg 640w",
        "webp_srcset": f"{BASE}0123456789abcdef0123-320.webp 320w, "
        f"{BASE}0123456789abcdef0123-640.webp 640w",
        "width": 640,
        "height": 360,
        "generated": False,
    },
    "version": 3,
    "created_at": "2026-01-02T03:04:05Z",
    "updated_at": "2026-01-03T04:05:06.123456Z",
}
STORED_DELETED: dict[str, Any] = {
    **STORED_GAME,
    "cover": {
        "url": f"{BASE}arte-c9c2d78220fc11a9beef.svg",
        "srcset": "",
        "webp_srcset": "",
        "width": 1280,
        "height": 720,
        "generated": True,
    },
    "version": 2,
    "updated_at": "2026-02-01T00:00:00Z",
    "deleted_at": "2026-02-01T00:00:00Z",
}
ORDER = Order(
    id="0c6c3b3e-4a43-4b8e-bb0b-6a0f3c8f2d11", user_id="user-1", game_id=GAME_ID,
    game_title="Hollow Knight", status="completed",
    payment_id="9e1d5f0a-3c2b-4d6e-8f7a-1b2c3d4e5f6a", payment_method="pm_card_visa",
    amount_cents=4699, currency="BRL", version=2,
    created_at=CREATED, updated_at=CREATED,
)  # fmt: skip
IDS = {
    "order_id": ORDER.id,
    "user_id": "user-1",
    "game_id": GAME_ID,
    "payment_id": ORDER.payment_id,
}


def _stored(payload: dict[str, Any]) -> str:
    """The JSON text as stored: same keys, same order, same values."""
    return json.dumps(payload)


@pytest.mark.parametrize("contract", [GameCreated, GameUpdated])
def test_a_game_event_stores_what_the_game_document_was(
    contract: type[GameCreated] | type[GameUpdated],
) -> None:
    event = contract.of(GAME).new_event()
    assert event.type == contract.TYPE
    assert _stored(dict(event.data)) == _stored(STORED_GAME)


def test_a_delisting_stores_the_game_with_when_it_left() -> None:
    game = Game(GAME_ID, FIELDS, 1, CREATED, CREATED)
    event = GameDeleted.of(delisted(game, datetime(2026, 2, 1, tzinfo=UTC))).new_event()
    assert _stored(dict(event.data)) == _stored(STORED_DELETED)


def test_the_order_events_store_the_shapes_they_always_had() -> None:
    money = {"game_title": "Hollow Knight", "amount_cents": 4699, "currency": "BRL"}
    expected: list[tuple[Any, dict[str, Any]]] = [
        (OrderCreated.of(ORDER), {**IDS, **money, "payment_method": "pm_card_visa"}),
        (OrderCompleted.of(ORDER), IDS),
        (OrderFailed.of(ORDER, "card_declined"), {**IDS, "reason": "card_declined"}),
        (PurchaseCompleted.of(ORDER), {**IDS, **money}),
    ]
    for contract, payload in expected:
        assert _stored(contract.payload()) == _stored(payload)


def test_a_consumer_parses_what_the_producer_stored() -> None:
    assert GameCreated.parse(STORED_GAME) == GameCreated.of(GAME)
    assert GameDeleted.parse(STORED_DELETED).deleted_at == "2026-02-01T00:00:00Z"
    assert OrderCreated.parse(OrderCreated.of(ORDER).payload()).order_id == ORDER.id


def test_a_payload_that_does_not_fit_is_a_poison_event() -> None:
    with pytest.raises(PoisonEvent):
        GameCreated.parse({"id": GAME_ID})
    with pytest.raises(PoisonEvent):
        OrderFailed.parse({**IDS})  # no reason
    assert uuid.UUID(OrderCompleted.parse(IDS).payment_id)
