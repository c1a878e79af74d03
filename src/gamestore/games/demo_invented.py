"""Invented demo games, beyond the curated list: fictional titles and studios whose genres,
tags, platforms and Portuguese description agree with one another.

Everything is drawn from one random generator, so a seed always invents the same games.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from gamestore.games.demo_phrases import FICTIONAL, PLAY, PREMISES, TAG_SENTENCES
from gamestore.games.demo_vocabulary import COMPANIONS, GENRE_TAGS, PLATFORM_LAUNCHES
from gamestore.games.domain import GameFields

ADJECTIVES = (
    "Silent", "Crimson", "Forgotten", "Eternal", "Hollow", "Broken", "Shattered", "Golden",
    "Frozen", "Burning", "Lost", "Hidden", "Savage", "Iron", "Neon", "Ancient", "Wild", "Dark",
    "Radiant", "Cursed", "Mystic", "Endless", "Rogue", "Stellar", "Sunken", "Phantom", "Brave",
    "Wandering", "Quantum", "Emerald", "Scarlet", "Howling", "Distant", "Fallen", "Clockwork",
)  # fmt: skip
NOUNS = (
    "Kingdom", "Legends", "Frontier", "Odyssey", "Chronicles", "Empire", "Horizon", "Dungeon",
    "Galaxy", "Fortress", "Realm", "Voyage", "Citadel", "Abyss", "Harbor", "Forest", "Tower",
    "Skies", "Tides", "Warriors", "Knights", "Shadows", "Dreams", "Engines", "Orchard", "Valley",
    "Station", "Island", "Labyrinth", "Requiem", "Crusade", "Saga", "Outpost", "Garden", "Storm",
)  # fmt: skip
SUBTITLES = (
    "Rebirth", "Awakening", "Origins", "Reckoning", "Remastered", "Definitive Edition",
    "Beyond the Stars", "Last Light", "Ascension",
)  # fmt: skip
STUDIO_WORDS = (
    "Pixel", "Lunar", "Bright", "Red", "Blue", "Quiet", "North", "Tiny", "Brave", "Iron",
    "Velvet", "Cobalt", "Paper", "Rocket", "Owl", "Fox",
)  # fmt: skip
STUDIO_KINDS = ("Games", "Studios", "Interactive", "Entertainment", "Works", "Jogos")
MAIN_GENRES = tuple(COMPANIONS)
PRICES = (1999, 2999, 3999, 4999, 5999, 7999, 9999, 14999, 19999, 24999, 29999)
FREE_SHARE = 0.08  # about one invented game in twelve is free to play
FIRST_RELEASE = date(2005, 1, 1)
RELEASE_SPAN_DAYS = 7300  # up to the end of 2024


def invented_game(rng: random.Random, title: str) -> GameFields:
    """A fictional game called ``title``: genres first, then what follows from them."""
    genres = _genres(rng)
    free = rng.random() < FREE_SHARE
    tags = _tags(rng, genres, free)
    released = FIRST_RELEASE + timedelta(days=rng.randrange(RELEASE_SPAN_DAYS))
    developer = _studio(rng)
    return GameFields(
        title=title,
        description=_description(rng, genres, tags),
        genres=genres,
        platforms=_platforms(rng, released),
        price_cents=0 if free else rng.choice(PRICES),
        release_date=released,
        developer=developer,
        publisher=developer if rng.random() < 0.5 else _studio(rng),
        tags=tags,
    )


def invented_title(rng: random.Random) -> str:
    adjective, noun, other = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(NOUNS)
    base = rng.choice(
        (f"{adjective} {noun}", f"{noun} of the {adjective} {other}", f"The {adjective} {noun}")
    )
    suffix = rng.random()
    if suffix < 0.3:
        return f"{base} {rng.randint(2, 9)}"
    if suffix < 0.6:
        return f"{base}: {rng.choice(SUBTITLES)}"
    if suffix < 0.8:
        return f"{base}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    return base


def _genres(rng: random.Random) -> tuple[str, ...]:
    """A main genre and up to two that go with it."""
    main = rng.choice(MAIN_GENRES)
    companions = COMPANIONS[main]
    return (main, *rng.sample(companions, rng.randint(0, min(2, len(companions)))))


def _tags(rng: random.Random, genres: tuple[str, ...], free: bool) -> tuple[str, ...]:
    """Tags the genres suggest, who plays (alone or with others), and free to play if free."""
    fitting = sorted({tag for genre in genres for tag in GENRE_TAGS[genre]})
    chosen = rng.sample(fitting, min(len(fitting), rng.randint(1, 3)))
    players = "multiplayer" if free or rng.random() < 0.35 else "singleplayer"
    tags = [players, *chosen]
    if free:
        tags.insert(0, "free to play")
    return tuple(dict.fromkeys(tags))


def _platforms(rng: random.Random, released: date) -> tuple[str, ...]:
    """One to four platforms that existed on the release day, in the vocabulary's order."""
    existing = [name for name, launch in PLATFORM_LAUNCHES.items() if launch <= released]
    chosen = set(rng.sample(existing, rng.randint(1, min(4, len(existing)))))
    return tuple(name for name in existing if name in chosen)


def _studio(rng: random.Random) -> str:
    return f"{rng.choice(STUDIO_WORDS)} {rng.choice(STUDIO_WORDS)} {rng.choice(STUDIO_KINDS)}"


def _description(rng: random.Random, genres: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """Premise of the main genre, how a companion genre plays, a tag's note, and fiction."""
    main, *others = genres
    play = PLAY[rng.choice(others)] if others else PLAY[main]
    note = next((TAG_SENTENCES[tag] for tag in tags if tag in TAG_SENTENCES), None)
    sentences = [rng.choice(PREMISES[main]), play, note, FICTIONAL]
    return " ".join(sentence for sentence in sentences if sentence)
