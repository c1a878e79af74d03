"""Generated cover artwork: a game without an upload still gets a cover of its own.

An SVG drawn from the title and the first genre alone, so the same game always gets the same
bytes (and the same URL): the genre picks the palette, a hash of the title seeds the shapes
and the gradient's angle, and the title is set in large type. The title is XML-escaped; it is
the only text from outside in the document.
"""

from __future__ import annotations

import hashlib
import html
import random
import textwrap
import unicodedata
from collections.abc import Sequence

ARTWORK_WIDTH, ARTWORK_HEIGHT = 1280, 720
STYLE_VERSION = "1"  # part of the digest: a new drawing style gets new URLs

# (dark, mid, bright) per genre, matched on the genre folded to plain lowercase ASCII
PALETTES: dict[str, tuple[str, str, str]] = {
    "acao": ("#3b0a0a", "#b3261e", "#ffb300"),
    "aventura": ("#0b3d2e", "#1f8a5b", "#d4e157"),
    "rpg": ("#1a0f3c", "#5e35b1", "#f48fb1"),
    "estrategia": ("#0d2538", "#1e6091", "#a8dadc"),
    "esporte": ("#08331f", "#2e7d32", "#fafafa"),
    "esportes": ("#08331f", "#2e7d32", "#fafafa"),
    "corrida": ("#26120a", "#e65100", "#ffe082"),
    "terror": ("#0a0a0a", "#4a0e0e", "#b71c1c"),
    "puzzle": ("#102a43", "#00897b", "#ffd54f"),
    "simulacao": ("#1b2631", "#546e7a", "#80deea"),
    "indie": ("#2d1b2e", "#ad1457", "#80cbc4"),
    "plataforma": ("#0d1b4c", "#1565c0", "#ffca28"),
    "luta": ("#2b0505", "#c62828", "#ffffff"),
    "tiro": ("#1c1c1c", "#455a64", "#ff7043"),
    "casual": ("#1e2a3a", "#26a69a", "#fff59d"),
}
FALLBACK = (
    ("#14213d", "#3a506b", "#fca311"),
    ("#1b1b3a", "#693668", "#f6ae2d"),
    ("#0b132b", "#1c2541", "#5bc0be"),
    ("#2f1b25", "#6b2737", "#f4d35e"),
)


def _folded(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in plain if not unicodedata.combining(ch)).strip()


def palette(genres: Sequence[str]) -> tuple[str, str, str]:
    """The genre's palette, or one picked by the genre's hash for a genre not listed."""
    genre = _folded(genres[0]) if genres else ""
    if genre in PALETTES:
        return PALETTES[genre]
    return FALLBACK[hashlib.sha256(genre.encode()).digest()[0] % len(FALLBACK)]


def artwork_digest(title: str, genres: Sequence[str]) -> str:
    """The digest of the artwork's inputs (its URL's name)."""
    genre = genres[0] if genres else ""
    material = "\0".join((STYLE_VERSION, title, genre)).encode()
    return hashlib.sha256(material).hexdigest()[:20]


def artwork(title: str, genres: Sequence[str]) -> bytes:
    """The cover's SVG document, the same bytes for the same title and first genre."""
    dark, mid, bright = palette(genres)
    seed = int.from_bytes(hashlib.sha256(title.encode()).digest()[:8], "big")
    # artwork, not a secret: the same title must always draw the same picture
    rng = random.Random(seed)  # nosec B311
    angle = rng.randrange(0, 360, 15)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{ARTWORK_WIDTH}" '
        f'height="{ARTWORK_HEIGHT}" viewBox="0 0 {ARTWORK_WIDTH} {ARTWORK_HEIGHT}">',
        "<defs>",
        f'<linearGradient id="g" gradientTransform="rotate({angle} 0.5 0.5)">'
        f'<stop offset="0" stop-color="{dark}"/><stop offset="1" stop-color="{mid}"/>'
        "</linearGradient>",
        f'<radialGradient id="r"><stop offset="0" stop-color="{bright}" stop-opacity="0.55"/>'
        f'<stop offset="1" stop-color="{bright}" stop-opacity="0"/></radialGradient>',
        "</defs>",
        f'<rect width="{ARTWORK_WIDTH}" height="{ARTWORK_HEIGHT}" fill="url(#g)"/>',
        *_shapes(rng, bright),
        *_title(title),
        "</svg>",
    ]
    return "\n".join(parts).encode()


def _shapes(rng: random.Random, bright: str) -> list[str]:
    """Glows, rings and slanted bands placed by the title's seed (drawn in this order, so the
    same seed always gives the same picture)."""
    return [*_glows(rng), *_rings(rng, bright), *_bands(rng, bright)]


def _point(rng: random.Random, smallest: int, largest: int) -> tuple[int, int, int]:
    """A centre anywhere on the canvas and a radius between ``smallest`` and ``largest``."""
    return (
        rng.randrange(0, ARTWORK_WIDTH),
        rng.randrange(0, ARTWORK_HEIGHT),
        rng.randrange(smallest, largest),
    )


def _glows(rng: random.Random) -> list[str]:
    glows = []
    for _ in range(3):
        x, y, r = _point(rng, 160, 420)
        glows.append(f'<circle cx="{x}" cy="{y}" r="{r}" fill="url(#r)"/>')
    return glows


def _rings(rng: random.Random, bright: str) -> list[str]:
    rings = []
    for _ in range(rng.randrange(2, 5)):
        x, y, r = _point(rng, 40, 220)
        width = rng.randrange(4, 18)
        rings.append(
            f'<circle cx="{x}" cy="{y}" r="{r}" fill="none" stroke="{bright}" '
            f'stroke-width="{width}" stroke-opacity="0.35"/>'
        )
    return rings


def _bands(rng: random.Random, bright: str) -> list[str]:
    bands = []
    for _ in range(rng.randrange(1, 4)):
        x = rng.randrange(-200, ARTWORK_WIDTH)
        slant, band = rng.randrange(-300, 300), rng.randrange(30, 140)
        bottom = ARTWORK_HEIGHT
        points = f"{x},0 {x + band},0 {x + band + slant},{bottom} {x + slant},{bottom}"
        bands.append(f'<polygon points="{points}" fill="{bright}" fill-opacity="0.12"/>')
    return bands


def _title(title: str) -> list[str]:
    """The title in up to three centred lines, the type as large as the longest line allows."""
    title = "".join(ch for ch in title if ch.isprintable())  # XML has no control characters
    lines = textwrap.wrap(title, width=max(12, len(title) // 3 + 1))[:3] or [""]
    if len(lines) == 3 and len(title) > sum(len(line) for line in lines) + 2:
        lines[2] = lines[2][:-1] + "…"
    size = min(132, int(ARTWORK_WIDTH * 1.7 / max(8, max(len(line) for line in lines))))
    top = ARTWORK_HEIGHT / 2 - (len(lines) - 1) * size * 0.55
    texts = []
    for index, line in enumerate(lines):
        y = round(top + index * size * 1.1 + size * 0.35)
        texts.append(
            f'<text x="{ARTWORK_WIDTH // 2}" y="{y}" text-anchor="middle" '
            'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
            f'font-weight="800" font-size="{size}" fill="#ffffff" stroke="#000000" '
            f'stroke-opacity="0.35" stroke-width="3" paint-order="stroke">'
            f"{html.escape(line)}</text>"
        )
    return texts
