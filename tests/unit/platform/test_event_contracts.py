"""Typed event contracts: one declaration per type, stored shapes kept, old shapes upcast, and
anything else refused as a poison event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from gamestore.platform.events import CATALOGUE, Event, PoisonEvent, contract_of
from gamestore.platform.eventstore import RecordedEvent


class PriceSet(Event):
    TYPE = "TestPriceSet"
    game_id: str
    price: int


class PriceSetV2(Event):
    """Version 2 adds the currency; version-1 payloads in the store were all in reais."""

    TYPE = "TestPriceSetV2"
    SCHEMA_VERSION = 2
    UPCASTERS = {1: lambda data: {**data, "currency": "BRL"}}
    game_id: str
    price: int
    currency: str


def recorded(type_: str, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        position=1,
        event_id=uuid.uuid4(),
        stream_id="game-1",
        version=1,
        type=type_,
        data=data,
        occurred_at=datetime.now(UTC),
        correlation_id=None,
        causation_id=None,
    )


def test_a_version_one_payload_is_stored_as_its_fields_alone() -> None:
    event = PriceSet(game_id="g", price=7990).new_event()
    assert (event.type, dict(event.data)) == ("TestPriceSet", {"game_id": "g", "price": 7990})
    assert PriceSet.parse(recorded("TestPriceSet", dict(event.data))) == PriceSet(
        game_id="g", price=7990
    )


def test_a_later_version_says_so_and_upcasts_what_was_stored_before() -> None:
    event = PriceSetV2(game_id="g", price=1, currency="USD").new_event()
    assert event.data["schema_version"] == 2
    assert PriceSetV2.parse(recorded("TestPriceSetV2", dict(event.data))).currency == "USD"
    old = PriceSetV2.parse({"game_id": "g", "price": 5})  # stored before version 2
    assert (old.price, old.currency) == (5, "BRL")


@pytest.mark.parametrize(
    "data",
    [
        {"game_id": "g"},  # a field missing
        {"game_id": "g", "price": "not a number"},
        {"game_id": "g", "price": 1, "schema_version": 9},  # from a future version
        {"game_id": "g", "price": 1, "schema_version": "1"},
    ],
)
def test_a_payload_that_does_not_fit_is_a_poison_event(data: dict[str, Any]) -> None:
    with pytest.raises(PoisonEvent):
        PriceSet.parse(recorded("TestPriceSet", data))


def test_an_event_of_another_type_is_refused() -> None:
    with pytest.raises(PoisonEvent, match="TestPriceSet was expected"):
        PriceSet.parse(recorded("GameDeleted", {"game_id": "g", "price": 1}))


def test_contracts_are_frozen_and_registered_once() -> None:
    event = PriceSet(game_id="g", price=1)
    with pytest.raises(ValidationError, match="frozen"):
        event.price = 2
    assert contract_of("TestPriceSet") is PriceSet
    assert CATALOGUE["TestPriceSetV2"] is PriceSetV2
    with pytest.raises(TypeError, match="declared twice"):

        class Another(Event):
            TYPE = "TestPriceSet"
            other: str


def test_a_version_without_its_upcasters_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="no upcaster"):

        class Skips(Event):
            TYPE = "TestSkips"
            SCHEMA_VERSION = 3
            UPCASTERS = {2: lambda data: data}
            value: int
