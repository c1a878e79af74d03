"""A realistic demo catalog: deterministic for a seed, unique titles, valid for the games API.

The first games are well-known titles (so the search examples work: "witcer" finds "The Witcher
3: Wild Hunt", "pokemon" finds "Pokémon Legends: Arceus"); the rest are composed from word lists.
Prices are BRL cents, descriptions mix Portuguese and English.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from gamestore.games.domain import GameFields, normalize_title

KNOWN: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("The Witcher 3: Wild Hunt", ("RPG", "Open World"), "CD Projekt Red", "CD Projekt"),
    ("Pokémon Legends: Arceus", ("RPG", "Adventure"), "Game Freak", "Nintendo"),
    ("Hades", ("Roguelike", "Action"), "Supergiant Games", "Supergiant Games"),
    ("Celeste", ("Platformer", "Indie"), "Maddy Makes Games", "Maddy Makes Games"),
    ("Stardew Valley", ("Simulation", "Indie"), "ConcernedApe", "ConcernedApe"),
    ("Hollow Knight", ("Metroidvania", "Indie"), "Team Cherry", "Team Cherry"),
    ("Elden Ring", ("RPG", "Action"), "FromSoftware", "Bandai Namco"),
    ("Dead Cells", ("Roguelike", "Action"), "Motion Twin", "Motion Twin"),
    ("Disco Elysium", ("RPG", "Adventure"), "ZA/UM", "ZA/UM"),
    ("Slay the Spire", ("Strategy", "Roguelike"), "Mega Crit", "Humble Games"),
    ("Outer Wilds", ("Adventure", "Puzzle"), "Mobius Digital", "Annapurna Interactive"),
    ("Ori and the Blind Forest", ("Platformer", "Adventure"), "Moon Studios", "Xbox Game Studios"),
    ("Portal 2", ("Puzzle", "Action"), "Valve", "Valve"),
    ("Baldur's Gate 3", ("RPG", "Strategy"), "Larian Studios", "Larian Studios"),
    ("Forza Horizon 5", ("Racing", "Open World"), "Playground Games", "Xbox Game Studios"),
    ("Street Fighter 6", ("Fighting", "Action"), "Capcom", "Capcom"),
    ("Terraria", ("Sandbox", "Adventure"), "Re-Logic", "Re-Logic"),
    ("Cuphead", ("Platformer", "Action"), "Studio MDHR", "Studio MDHR"),
)
GENRES = (
    "Action", "Adventure", "RPG", "Strategy", "Simulation", "Sports", "Racing", "Puzzle",
    "Platformer", "Shooter", "Fighting", "Horror", "Roguelike", "Metroidvania", "Indie",
    "Open World", "Sandbox", "Survival",
)  # fmt: skip
PLATFORMS = ("PC", "PlayStation 5", "PlayStation 4", "Xbox Series X|S", "Nintendo Switch", "Mac")
TAGS = (
    "singleplayer", "multiplayer", "co-op", "pixel art", "story rich", "difficult", "relaxing",
    "fantasy", "sci-fi", "medieval", "cyberpunk", "atmospheric", "funny", "retro", "anime",
    "exploration", "crafting", "turn-based", "fast-paced", "cozy", "dark", "female protagonist",
)  # fmt: skip
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
    "A Nova Era", "O Retorno", "Beyond the Stars", "Edição Completa", "Last Light", "Ascension",
)  # fmt: skip
STUDIO_WORDS = (
    "Pixel", "Lunar", "Bright", "Red", "Blue", "Quiet", "North", "Tiny", "Brave", "Iron",
    "Velvet", "Cobalt", "Paper", "Rocket", "Owl", "Fox",
)  # fmt: skip
STUDIO_KINDS = ("Games", "Studios", "Interactive", "Entertainment", "Works", "Jogos")
PHRASES_EN = (
    "Explore a {adj} world full of secrets.",
    "Fight your way through {noun} and uncover the truth.",
    "A hand-crafted adventure about friendship and loss.",
    "Build, craft and survive with your friends.",
    "Master tight controls and challenging bosses.",
)
PHRASES_PT = (
    "Explore um mundo {adj_pt} cheio de segredos.",
    "Uma aventura emocionante com uma trilha sonora inesquecível.",
    "Construa, colete recursos e sobreviva com seus amigos.",
    "Enfrente chefes desafiadores e descubra a verdade.",
    "Uma história tocante sobre amizade e coragem.",
)
ADJ_PT = ("misterioso", "vasto", "sombrio", "colorido", "perigoso", "encantado")
PRICES = (0, 1999, 2999, 3999, 4999, 5999, 7999, 9999, 14999, 19999, 24999, 29999, 34999)
FIRST_RELEASE = date(2000, 1, 1)
RELEASE_SPAN_DAYS = 9300  # up to mid-2025


def demo_games(count: int, seed: int = 42) -> Iterator[GameFields]:
    """``count`` games with unique titles; the same ``seed`` gives the same catalog."""
    # Demo data, not a secret: the standard generator is the right one.
    rng = random.Random(seed)  # nosec B311
    seen: set[str] = set()
    produced = 0
    for title, genres, developer, publisher in KNOWN:
        if produced == count:
            return
        seen.add(normalize_title(title))
        produced += 1
        yield _game(rng, title, genres, developer, publisher)
    while produced < count:
        title = _title(rng)
        if normalize_title(title) in seen:
            continue
        seen.add(normalize_title(title))
        produced += 1
        genres = tuple(rng.sample(GENRES, rng.randint(1, 3)))
        yield _game(rng, title, genres, _studio(rng), _studio(rng))


def _title(rng: random.Random) -> str:
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


def _studio(rng: random.Random) -> str:
    return f"{rng.choice(STUDIO_WORDS)} {rng.choice(STUDIO_WORDS)} {rng.choice(STUDIO_KINDS)}"


def _description(rng: random.Random, title: str) -> str:
    english = rng.choice(PHRASES_EN).format(
        adj=rng.choice(ADJECTIVES).lower(), noun=rng.choice(NOUNS).lower()
    )
    portuguese = rng.choice(PHRASES_PT).format(adj_pt=rng.choice(ADJ_PT))
    return f"{title}. {english} {portuguese}"


def _game(
    rng: random.Random, title: str, genres: tuple[str, ...], developer: str, publisher: str
) -> GameFields:
    return GameFields(
        title=title,
        description=_description(rng, title),
        genres=genres,
        platforms=tuple(rng.sample(PLATFORMS, rng.randint(1, 4))),
        price_cents=rng.choice(PRICES),
        release_date=FIRST_RELEASE + timedelta(days=rng.randrange(RELEASE_SPAN_DAYS)),
        developer=developer,
        publisher=publisher,
        tags=tuple(rng.sample(TAGS, rng.randint(2, 6))),
    )
