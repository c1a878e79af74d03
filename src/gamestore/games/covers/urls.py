"""A game's cover as clients see it: content-addressed URLs, ``srcset`` and intrinsic size.

Every URL names its content (the upload's digest, or the digest of the generated artwork's
inputs), so a response can be cached for a year: a new cover is a new URL. Files are
``/jogos/<id>/capa/<digest>-<width>.webp|.jpg`` for an upload and
``/jogos/<id>/capa/arte-<digest>.svg`` for generated artwork.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gamestore.games.covers.artwork import ARTWORK_HEIGHT, ARTWORK_WIDTH, artwork_digest

MEDIA_TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "svg": "image/svg+xml"}
_UPLOADED_FILE = re.compile(
    r"^(?P<digest>[0-9a-f]{20})-(?P<width>[1-9][0-9]{0,4})\.(?P<ext>webp|jpg)$"
)
_ARTWORK_FILE = re.compile(r"^arte-(?P<digest>[0-9a-f]{20})\.svg$")


@dataclass(frozen=True, slots=True)
class UploadedCover:
    """What the catalog keeps of an upload: its digest and each rendition's size."""

    digest: str
    sizes: tuple[tuple[int, int], ...]

    def stored(self) -> dict[str, Any]:
        """The JSON the games table keeps."""
        return {"digest": self.digest, "sizes": [list(size) for size in self.sizes]}

    def keys(self, game_id: str) -> list[str]:
        """The storage key of every file of this cover."""
        return [
            file_key(game_id, self.digest, width, ext)
            for width, _ in self.sizes
            for ext in ("webp", "jpg")
        ]


def uploaded_from(stored: Any) -> UploadedCover | None:
    """The cover kept in the games table (None when the game has no upload)."""
    if not isinstance(stored, dict):
        return None
    sizes = tuple((int(w), int(h)) for w, h in stored.get("sizes", []))
    return UploadedCover(str(stored["digest"]), sizes) if sizes else None


def file_key(game_id: str, digest: str, width: int, ext: str) -> str:
    return f"{game_id}/{digest}/{width}.{ext}"


@dataclass(frozen=True, slots=True)
class UploadedFile:
    digest: str
    width: int
    ext: str


@dataclass(frozen=True, slots=True)
class ArtworkFile:
    digest: str


def parse_file(name: str) -> UploadedFile | ArtworkFile | None:
    """What a cover file name asks for; None for a name no cover has."""
    if match := _UPLOADED_FILE.match(name):
        return UploadedFile(match["digest"], int(match["width"]), match["ext"])
    if match := _ARTWORK_FILE.match(name):
        return ArtworkFile(match["digest"])
    return None


def cover_public(
    game_id: str, title: str, genres: Sequence[str], uploaded: UploadedCover | None
) -> dict[str, Any]:
    """The ``cover`` object of a game's public document: ``url`` (the largest JPEG, or the
    SVG artwork), ``srcset`` (JPEG) and ``webp_srcset`` (empty for artwork), the intrinsic
    ``width`` and ``height`` of the largest file, and whether it was ``generated``."""
    base = f"/jogos/{game_id}/capa/"
    if uploaded is None:
        digest = artwork_digest(title, genres)
        return {
            "url": f"{base}arte-{digest}.svg", "srcset": "", "webp_srcset": "",
            "width": ARTWORK_WIDTH, "height": ARTWORK_HEIGHT, "generated": True,
        }  # fmt: skip
    width, height = uploaded.sizes[-1]
    files = {
        ext: [(f"{base}{uploaded.digest}-{w}.{ext}", w) for w, _ in uploaded.sizes]
        for ext in ("jpg", "webp")
    }
    return {
        "url": files["jpg"][-1][0],
        "srcset": ", ".join(f"{url} {w}w" for url, w in files["jpg"]),
        "webp_srcset": ", ".join(f"{url} {w}w" for url, w in files["webp"]),
        "width": width, "height": height, "generated": False,
    }  # fmt: skip
