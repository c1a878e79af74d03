"""A small fixed catalog for the search contract, and the truths computed from it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

from gamestore.search.index import GameDocument


def game(
    id: str, title: str, genres: list[str], platforms: list[str], price: int, released: str,
    description: str = "", tags: list[str] | None = None, version: int = 1,
) -> GameDocument:  # fmt: skip
    return GameDocument(
        id=id, title=title, description=description or f"{title}: a game.", genres=genres,
        platforms=platforms, tags=tags or [], developer="Studio " + id, publisher="Pub",
        price_cents=price, release_date=date.fromisoformat(released), version=version,
    )  # fmt: skip


CATALOG = [
    game("g01", "The Witcher 3: Wild Hunt", ["RPG", "Adventure"], ["PC", "PS5"], 9990,
         "2015-05-19", "Geralt of Rivia hunts monsters in an open world.",
         ["fantasy", "open-world"]),
    game("g02", "Pokémon Scarlet", ["RPG"], ["Switch"], 29990, "2022-11-18",
         "Catch creatures across the Paldea region.", ["creatures", "family"]),
    game("g03", "Doom Eternal", ["Shooter", "Action"], ["PC", "PS5", "Xbox"], 14990,
         "2020-03-20", "Rip and tear through demons.", ["fps", "gore"]),
    game("g04", "Stardew Valley", ["Simulation", "RPG"], ["PC", "Switch"], 2490, "2016-02-26",
         "Farm, fish and befriend a small town.", ["farming", "cozy"]),
    game("g05", "Hades", ["Action", "Roguelike"], ["PC", "Switch"], 4790, "2020-09-17",
         "Escape the underworld, one death at a time.", ["roguelike", "mythology"]),
    game("g06", "Forza Horizon 5", ["Racing"], ["PC", "Xbox"], 24990, "2021-11-09",
         "Corridas pelo México em mundo aberto.", ["cars", "open-world"]),
    game("g07", "Celeste", ["Platformer"], ["PC", "Switch", "PS5"], 3690, "2018-01-25",
         "Climb the mountain.", ["pixel", "hard"]),
    game("g08", "Hollow Knight", ["Metroidvania", "Action"], ["PC", "Switch"], 2799,
         "2017-02-24", "Descend into a ruined insect kingdom.", ["hard", "fantasy"]),
    game("g09", "Pokémon Legends: Arceus", ["RPG", "Action"], ["Switch"], 29990, "2022-01-28",
         "Explore ancient Hisui and catch creatures.", ["creatures"]),
    game("g10", "Age of Empires IV", ["Strategy"], ["PC"], 11990, "2021-10-28",
         "Build an empire through the ages.", ["rts", "history"]),
    game("g11", "Elden Ring", ["RPG", "Action"], ["PC", "PS5", "Xbox"], 24990, "2022-02-25",
         "Rise, Tarnished, in the Lands Between.", ["fantasy", "hard", "open-world"]),
    game("g12", "Cities: Skylines", ["Simulation", "Strategy"], ["PC"], 8990, "2015-03-10",
         "Build and manage a city.", ["city-builder"]),
]  # fmt: skip


def truth(
    keep: Callable[[GameDocument], bool], docs: list[GameDocument] = CATALOG
) -> tuple[set[str], dict[str, dict[str, int]]]:
    """The ids and facet counts a query selecting ``keep`` must report."""
    chosen = [d for d in docs if keep(d)]
    genres = Counter(g for d in chosen for g in d.genres)
    platforms = Counter(p for d in chosen for p in d.platforms)
    return {d.id for d in chosen}, {"genres": dict(genres), "platforms": dict(platforms)}
