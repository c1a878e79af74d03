"""The demo catalog: the curated real games first, then invented ones, deterministic for a seed.

The curated games (``demo_catalog.toml``) carry their real facts and a description written for
each; they include the search examples ("witcer" finds "The Witcher 3: Wild Hunt", "pokemon"
finds "Pokémon Legends: Arceus"). Past them, games are invented (``demo_invented``), with
unique titles. Every demo game has a stable id derived from its key, so seeding again knows a
game it created before even after an admin renamed or delisted it.
"""

from __future__ import annotations

import random
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from gamestore.games.demo_invented import invented_game, invented_title
from gamestore.games.domain import GameFields, normalize_title

CATALOG_FILE = "demo_catalog.toml"
# the namespace of demo game ids (uuid5): fixed forever, or seeding would forget its games
DEMO_NAMESPACE = uuid.UUID("5c1d6f0e-8b1a-4f3e-9a59-2f0d3c7b6a10")


@dataclass(frozen=True, slots=True)
class DemoGame:
    """A demo game: its key in the demo catalog, the store id derived from it, its fields."""

    key: str
    fields: GameFields

    @property
    def id(self) -> str:
        return demo_id(self.key)


def demo_id(key: str) -> str:
    """The game id a demo key always maps to."""
    return str(uuid.uuid5(DEMO_NAMESPACE, key))


@cache
def curated_games() -> tuple[DemoGame, ...]:
    """The curated real games, in catalog order (read once from the package's data file)."""
    text = resources.files("gamestore.games").joinpath(CATALOG_FILE).read_text("utf-8")
    return tuple(_curated(entry) for entry in tomllib.loads(text)["game"])


def _curated(entry: dict[str, Any]) -> DemoGame:
    released = entry["release_date"]
    if not isinstance(released, date):
        raise ValueError(f"{CATALOG_FILE}: {entry['key']} needs a release_date as a TOML date")
    fields = GameFields(
        title=entry["title"],
        description=entry["description"].strip(),
        genres=tuple(entry["genres"]),
        platforms=tuple(entry["platforms"]),
        price_cents=entry["price_cents"],
        release_date=released,
        developer=entry["developer"],
        publisher=entry["publisher"],
        tags=tuple(entry["tags"]),
    )
    return DemoGame(f"curated:{entry['key']}", fields)


def demo_catalog(count: int, seed: int = 42) -> Iterator[DemoGame]:
    """``count`` demo games with unique titles: the curated ones first, then invented ones;
    the same ``seed`` invents the same games (the curated ones never depend on it)."""
    curated = curated_games()
    yield from curated[:count]
    # Demo data, not a secret: the standard generator is the right one.
    rng = random.Random(seed)  # nosec B311
    seen = {normalize_title(game.fields.title) for game in curated}
    for n in range(count - len(curated)):
        title = invented_title(rng)
        while normalize_title(title) in seen:
            title = invented_title(rng)
        seen.add(normalize_title(title))
        yield DemoGame(f"invented:{seed}:{n}", invented_game(rng, title))


def demo_games(count: int, seed: int = 42) -> Iterator[GameFields]:
    """The fields of :func:`demo_catalog`'s games."""
    return (game.fields for game in demo_catalog(count, seed))
