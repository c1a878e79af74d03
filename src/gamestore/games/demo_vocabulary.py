"""The demo catalog's vocabulary: the genre, platform and tag ids it uses, and how they relate.

The ids are the strings stored on games (and so what the API, the search facets and the query
string carry); the web app shows each one under a Portuguese label (``gateway/web/labels.js``).
"""

from __future__ import annotations

from datetime import date

GENRES = (
    "Action", "Adventure", "RPG", "Strategy", "Simulation", "Sports", "Racing", "Puzzle",
    "Platformer", "Shooter", "Fighting", "Horror", "Roguelike", "Metroidvania", "Indie",
    "Open World", "Sandbox", "Survival", "MOBA", "Party", "Card Game",
)  # fmt: skip

# each platform with the day it launched: a game cannot have come out on it before then
PLATFORM_LAUNCHES: dict[str, date] = {
    "PC": date(1981, 8, 12),
    "Mac": date(1984, 1, 24),
    "PlayStation 4": date(2013, 11, 15),
    "Xbox One": date(2013, 11, 22),
    "Nintendo Switch": date(2017, 3, 3),
    "Xbox Series X|S": date(2020, 11, 10),
    "PlayStation 5": date(2020, 11, 12),
}
PLATFORMS = tuple(PLATFORM_LAUNCHES)

TAGS = (
    "singleplayer", "multiplayer", "co-op", "local multiplayer", "competitive", "free to play",
    "pixel art", "hand-drawn", "retro", "anime", "story rich", "difficult", "relaxing", "cozy",
    "funny", "atmospheric", "dark", "fantasy", "sci-fi", "medieval", "cyberpunk", "historical",
    "mythology", "western", "space", "exploration", "crafting", "building", "farming",
    "automation", "city builder", "turn-based", "fast-paced", "deckbuilding", "physics",
    "stealth", "mystery", "detective", "crime", "neo-noir", "survival horror", "battle royale",
    "social deduction", "football", "family friendly", "female protagonist",
)  # fmt: skip

# the genres an invented game may pair with its main one (no horror football)
COMPANIONS: dict[str, tuple[str, ...]] = {
    "Action": ("Adventure", "RPG", "Platformer", "Shooter", "Roguelike", "Indie", "Open World"),
    "Adventure": ("Action", "Puzzle", "RPG", "Indie", "Open World"),
    "RPG": ("Action", "Adventure", "Strategy", "Open World", "Indie"),
    "Strategy": ("Simulation", "RPG", "Card Game", "Indie"),
    "Simulation": ("Strategy", "Sandbox", "Indie"),
    "Sports": ("Racing", "Party", "Indie"),
    "Racing": ("Sports", "Open World", "Indie"),
    "Puzzle": ("Adventure", "Platformer", "Indie"),
    "Platformer": ("Action", "Puzzle", "Metroidvania", "Indie"),
    "Shooter": ("Action", "Survival", "Roguelike"),
    "Fighting": ("Action", "Party"),
    "Horror": ("Survival", "Adventure", "Puzzle"),
    "Roguelike": ("Action", "Card Game", "Strategy", "Indie"),
    "Metroidvania": ("Action", "Platformer", "Indie"),
    "Sandbox": ("Survival", "Simulation", "Adventure"),
    "Survival": ("Sandbox", "Horror", "Open World"),
    "Party": ("Sports", "Fighting", "Puzzle"),
    "Card Game": ("Strategy", "Roguelike", "Indie"),
}

# the tags that fit a genre; an invented game draws its tags from its genres' lists
GENRE_TAGS: dict[str, tuple[str, ...]] = {
    "Action": ("fast-paced", "difficult", "co-op", "sci-fi", "fantasy"),
    "Adventure": ("story rich", "exploration", "atmospheric", "mystery", "fantasy"),
    "RPG": ("story rich", "fantasy", "turn-based", "medieval", "exploration"),
    "Strategy": ("turn-based", "historical", "competitive", "medieval", "building"),
    "Simulation": ("relaxing", "building", "farming", "city builder", "automation"),
    "Sports": ("competitive", "local multiplayer", "football", "family friendly"),
    "Racing": ("competitive", "local multiplayer", "retro", "fast-paced"),
    "Puzzle": ("relaxing", "physics", "atmospheric", "family friendly"),
    "Platformer": ("pixel art", "difficult", "retro", "hand-drawn"),
    "Shooter": ("fast-paced", "sci-fi", "competitive", "co-op"),
    "Fighting": ("competitive", "local multiplayer", "anime", "fast-paced"),
    "Horror": ("dark", "atmospheric", "survival horror", "mystery"),
    "Roguelike": ("difficult", "pixel art", "fast-paced", "deckbuilding"),
    "Metroidvania": ("exploration", "pixel art", "difficult", "atmospheric"),
    "Indie": ("pixel art", "hand-drawn", "retro", "cozy"),
    "Open World": ("exploration", "story rich", "crafting", "western"),
    "Sandbox": ("building", "crafting", "exploration", "co-op"),
    "Survival": ("crafting", "co-op", "exploration", "dark"),
    "MOBA": ("competitive", "fantasy"),
    "Party": ("funny", "local multiplayer", "family friendly"),
    "Card Game": ("deckbuilding", "turn-based", "fantasy"),
}
