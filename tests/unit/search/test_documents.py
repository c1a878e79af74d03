"""A game event's data as a search document, and the poison the indexer refuses: no I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gamestore.platform.events import PoisonEvent
from gamestore.search.indexer.documents import document_of, game_id_of

GAME_ID = "6f1c2a4e-9b1d-4c3a-8e2f-0a1b2c3d4e5f"
GAME: dict[str, Any] = {
    "id": GAME_ID.upper(),
    "title": "Hollow Knight",
    "description": "A knight in a ruined kingdom.",
    "genres": ["metroidvania"],
    "platforms": ["pc", "switch"],
    "tags": ["hard"],
    "developer": "Team Cherry",
    "publisher": "Team Cherry",
    "price_cents": 4999,
    "release_date": "2017-02-24",
    # the rest of the games service's contract, which the index does not hold
    "currency": "BRL",
    "cover": {
        "url": "/jogos/x/capa/a.svg",
        "srcset": "",
        "webp_srcset": "",
        "width": 1280,
        "height": 720,
        "generated": True,
    },
    "version": 3,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


def test_a_game_document_carries_the_event_version_and_the_canonical_id() -> None:
    document = document_of(GAME, version=3)
    assert document.id == GAME_ID
    assert document.version == 3
    assert (document.title, document.price_cents) == ("Hollow Knight", 4999)
    assert document.release_date == date(2017, 2, 24)
    assert (document.genres, document.platforms, document.tags) == (
        ["metroidvania"],
        ["pc", "switch"],
        ["hard"],
    )


def test_a_payload_missing_what_the_contract_promises_is_the_shared_poison() -> None:
    minimal = {k: GAME[k] for k in ("id", "title", "price_cents", "release_date")}
    with pytest.raises(PoisonEvent, match="game document does not parse"):
        document_of(minimal, version=1)


@pytest.mark.parametrize(
    "broken",
    [
        {"price_cents": "cheap"},
        {"release_date": "soon"},
        {"id": None},
        {"id": "not-a-uuid"},
    ],
)
def test_a_document_that_does_not_parse_is_the_shared_poison(broken: dict[str, Any]) -> None:
    with pytest.raises(PoisonEvent, match="game document does not parse"):
        document_of({**GAME, **broken}, version=1)


def test_a_game_without_a_title_is_the_shared_poison() -> None:
    untitled = {key: value for key, value in GAME.items() if key != "title"}
    with pytest.raises(PoisonEvent, match="game document does not parse"):
        document_of(untitled, version=1)


@pytest.mark.parametrize("value", [None, "", "not-a-uuid", 7])
def test_a_game_id_must_be_a_uuid(value: object) -> None:
    with pytest.raises(PoisonEvent):
        game_id_of(value)


def test_a_game_id_has_one_spelling() -> None:
    assert game_id_of(GAME_ID.upper()) == GAME_ID
