"""The catalog's rules without I/O: titles, ids, If-Match, versions, events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gamestore.games.domain import (
    ANY_VERSION,
    GameFields,
    GameNotFound,
    PreconditionFailed,
    canonical_id,
    check_precondition,
    delisted,
    etag,
    new_game,
    normalize_title,
    parse_if_match,
    replaced,
)
from gamestore.games.events import GameCreated, GameDeleted

FIELDS = GameFields(
    title="Pokémon Red",
    description="",
    genres=("RPG",),
    platforms=("Game Boy",),
    price_cents=0,
    release_date=date(1996, 2, 27),
    developer="Game Freak",
    publisher="Nintendo",
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_title_key_ignores_case_and_spacing_but_not_accents() -> None:
    assert normalize_title("  POKÉMON   red ") == normalize_title("pokémon red")
    assert normalize_title("Pokemon Red") != normalize_title("Pokémon Red")
    assert normalize_title("Poke\u0301mon") == normalize_title("Pokémon")  # NFC


def test_ids_are_canonical_uuids_or_not_found() -> None:
    assert canonical_id("A1B2C3D4-0000-4000-8000-000000000000") == (
        "a1b2c3d4-0000-4000-8000-000000000000"
    )
    for bad in ("", "x", "' OR 1=1", "1" * 100):
        with pytest.raises(GameNotFound):
            canonical_id(bad)


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        (None, None),
        ("*", ANY_VERSION),
        ('"3"', frozenset({3})),
        ('"3", "4"', frozenset({3, 4})),
        ('W/"3"', frozenset()),
        ("3", frozenset()),
        ('"abc"', frozenset()),
        ('"3", *', ANY_VERSION),
    ],
)
def test_if_match_parsing(header: str | None, parsed: object) -> None:
    assert parse_if_match(header) == parsed


def test_preconditions() -> None:
    check_precondition(None, 5)
    check_precondition(ANY_VERSION, 5)
    check_precondition(frozenset({4, 5}), 5)
    for stale in (frozenset({4}), frozenset()):
        with pytest.raises(PreconditionFailed):
            check_precondition(stale, 5)
    assert etag(5) == '"5"'


def test_every_change_is_the_next_version_and_its_event_carries_it() -> None:
    game = new_game(FIELDS, NOW)
    assert game.version == 1 and game.listed
    assert GameCreated.of(game).new_event().data["version"] == 1
    updated = replaced(game, FIELDS, NOW)
    assert updated.version == 2 and updated.created_at == game.created_at
    gone = delisted(updated, NOW)
    assert gone.version == 3 and not gone.listed
    event = GameDeleted.of(gone).new_event()
    assert (event.type, event.data["version"], event.data["deleted_at"]) == (
        "GameDeleted",
        3,
        "2026-01-01T00:00:00Z",
    )


def test_a_new_game_takes_a_chosen_id_in_its_canonical_spelling() -> None:
    chosen = "A1B2C3D4-0000-4000-8000-000000000000"
    assert new_game(FIELDS, NOW, chosen).id == chosen.lower()
    assert new_game(FIELDS, NOW).id != new_game(FIELDS, NOW).id  # otherwise a fresh UUID
    with pytest.raises(ValueError):
        new_game(FIELDS, NOW, "not-a-uuid")
