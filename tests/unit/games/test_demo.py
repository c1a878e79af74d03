"""The demo catalog's data: curated games with sound facts, invented games that agree with
themselves, stable ids, and a Portuguese label in the web app for every id it uses."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from gamestore.games.demo import DemoGame, curated_games, demo_catalog, demo_games, demo_id
from gamestore.games.demo_vocabulary import (
    COMPANIONS,
    GENRE_TAGS,
    GENRES,
    PLATFORM_LAUNCHES,
    PLATFORMS,
    TAGS,
)
from gamestore.games.schemas import GameIn

CURATED = curated_games()
INVENTED = list(demo_catalog(len(CURATED) + 2000, seed=11))[len(CURATED) :]
LABELS_JS = Path(__file__).resolve().parents[3] / "src/gamestore/gateway/web/labels.js"
# common English words that have no business in a Portuguese description
ENGLISH = re.compile(r"\b(the|and|your|you|with|of|to|is|this|through|an)\b")


def _api_body(game: DemoGame) -> dict[str, object]:
    f = game.fields
    return {
        **{k: getattr(f, k) for k in ("title", "description", "developer", "publisher")},
        "genres": list(f.genres),
        "platforms": list(f.platforms),
        "tags": list(f.tags),
        "price_cents": f.price_cents,
        "release_date": f.release_date.isoformat(),
    }


def test_english_text_would_be_caught() -> None:
    assert ENGLISH.search("Fight your way through the orchard.")
    assert not ENGLISH.search("Explore um mundo cheio de segredos, com amigos.")


def test_the_curated_list_is_large_unique_and_keyed() -> None:
    assert len(CURATED) >= 60
    assert len({game.fields.title.casefold() for game in CURATED}) == len(CURATED)
    assert len({game.key for game in CURATED}) == len(CURATED)
    for title in ("The Witcher 3: Wild Hunt", "Pokémon Legends: Arceus", "Hades", "Celeste"):
        assert title in {game.fields.title for game in CURATED}


@pytest.mark.parametrize("game", CURATED, ids=lambda g: g.key)
def test_a_curated_game_has_sound_facts(game: DemoGame) -> None:
    f = game.fields
    assert set(f.genres) <= set(GENRES), f.genres
    assert f.platforms and set(f.platforms) <= set(PLATFORMS), f.platforms
    assert len(set(f.platforms)) == len(f.platforms)
    assert set(f.tags) <= set(TAGS), f.tags
    assert date(1980, 1, 1) <= f.release_date <= date.today()
    assert (f.price_cents == 0) == ("free to play" in f.tags)
    assert f.developer and f.publisher
    assert GameIn.model_validate(_api_body(game)).fields() == f


@pytest.mark.parametrize("game", CURATED, ids=lambda g: g.key)
def test_a_curated_description_is_portuguese_and_two_or_three_sentences(game: DemoGame) -> None:
    text = game.fields.description
    assert not ENGLISH.search(text.lower()), text
    assert 2 <= len(re.findall(r"[.!?](?:\s|$)", text)) <= 3, text
    assert not text.startswith(game.fields.title + ".")


def test_free_games_are_among_the_first_thirty_and_the_browser_purchases_are_priced() -> None:
    first = {game.fields.title: game.fields.price_cents for game in CURATED[:30]}
    assert 0 in first.values()
    for title in ("Hades", "Celeste", "Stardew Valley", "The Witcher 3: Wild Hunt"):
        assert first[title] > 0


def test_the_catalog_is_deterministic_per_seed_with_unique_titles_and_ids() -> None:
    games = list(demo_catalog(3000, seed=7))
    assert games == list(demo_catalog(3000, seed=7))
    assert games[len(CURATED) :] != list(demo_catalog(3000, seed=8))[len(CURATED) :]
    assert games[: len(CURATED)] == list(CURATED)
    assert len({g.fields.title.casefold() for g in games}) == 3000
    assert len({g.id for g in games}) == 3000
    assert [g.fields for g in games[:10]] == list(demo_games(10, seed=7))


def test_ids_are_stable_uuids_derived_from_the_key() -> None:
    assert demo_id("curated:hades") == demo_id("curated:hades") != demo_id("curated:celeste")
    assert CURATED[0].id == demo_id(CURATED[0].key)
    assert re.fullmatch(r"[0-9a-f-]{36}", CURATED[0].id)
    # an invented game's id belongs to its seed and position, not to its title
    assert next(iter(INVENTED)).key == "invented:11:0"


def test_invented_games_agree_with_themselves_and_say_they_are_fictional() -> None:
    for game in INVENTED:
        f = game.fields
        main, *others = f.genres
        assert set(others) <= set(COMPANIONS[main]), f.genres
        fitting = {t for g in f.genres for t in GENRE_TAGS[g]}
        extra = {"singleplayer", "multiplayer", "free to play"}
        assert set(f.tags) <= fitting | extra, (f.genres, f.tags)
        assert (f.price_cents == 0) == ("free to play" in f.tags)
        assert all(PLATFORM_LAUNCHES[p] <= f.release_date for p in f.platforms), f
        assert f.release_date <= date.today()
        assert not ENGLISH.search(f.description.lower()), f.description
        assert f.description.endswith("Jogo fictício, criado para a demonstração da loja.")
        assert GameIn.model_validate(_api_body(game)).fields() == f
    assert any(game.fields.price_cents == 0 for game in INVENTED)


def test_the_web_app_has_a_portuguese_label_for_every_id() -> None:
    source = LABELS_JS.read_text("utf-8")
    for name in (*GENRES, *PLATFORMS, *TAGS):
        assert re.search(rf"^\s*'{re.escape(name)}': '", source, re.MULTILINE), name
