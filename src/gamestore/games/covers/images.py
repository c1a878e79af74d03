"""Uploaded cover images, checked by their content and re-encoded without metadata.

The declared Content-Type is never trusted: Pillow reads the bytes, and only JPEG, PNG and
WebP are accepted. The pixel count is checked from the header before anything is decoded (a
small file can claim a 100,000 x 100,000 canvas). Every image is cropped to the cover's aspect
ratio, resized to the widths it reaches (never upscaled), and written anew as WebP and JPEG from
bare pixels, so no EXIF, GPS, XMP or ICC block of the upload survives.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 8000 x 5000 photo; decoded, about 120 MB of RGB
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
WIDTHS = (320, 640, 1280)
ASPECT = (16, 9)  # every cover, uploaded or generated: cards keep one shape
BACKGROUND = (22, 25, 34)  # what transparent pixels become (the web app's dark surface)
WEBP_QUALITY = 80
JPEG_QUALITY = 85


class CoverRejected(ValueError):
    """The upload cannot be a cover; ``status`` is the HTTP status that says why."""

    status = 422


class NotAnImage(CoverRejected):
    """The bytes are not an image Pillow can read whole (corrupt, truncated, or not one)."""


class UnsupportedFormat(CoverRejected):
    """An image, but not JPEG, PNG or WebP."""

    status = 415


class TooManyPixels(CoverRejected):
    """The image's canvas is larger than :data:`MAX_PIXELS` (a decompression bomb)."""

    status = 413


@dataclass(frozen=True, slots=True)
class Rendition:
    """One width of a cover, in both encodings."""

    width: int
    height: int
    webp: bytes
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class ProcessedCover:
    """An upload made into renditions; ``digest`` names their content (it goes in URLs)."""

    digest: str
    renditions: tuple[Rendition, ...]

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(r.width for r in self.renditions)


def process(data: bytes) -> ProcessedCover:
    """The renditions of an uploaded image, or a :class:`CoverRejected` saying why not."""
    picture = _decoded(data)
    cropped = _cropped(picture)
    renditions = tuple(_rendition(cropped, width) for width in target_widths(cropped.width))
    digest = hashlib.sha256()
    for rendition in renditions:
        digest.update(rendition.webp + rendition.jpeg)
    return ProcessedCover(digest.hexdigest()[:20], renditions)


def target_widths(width: int) -> tuple[int, ...]:
    """The standard widths an image of ``width`` pixels reaches, or its own when it is
    narrower than the smallest: an image is never upscaled."""
    reached = tuple(w for w in WIDTHS if w <= width)
    return reached or (width,)


def _decoded(data: bytes) -> Image.Image:
    """The image's pixels, upright, in RGB; checked for format, size and integrity first."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            _check_header(probe)
            probe.verify()  # the whole file: checksums and structure (the object is spent)
            picture = Image.open(io.BytesIO(data))
            picture.load()
    except CoverRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise TooManyPixels("the image has too many pixels") from error
    except Exception as error:  # Pillow raises many kinds for a broken file
        raise NotAnImage("the file is not a readable JPEG, PNG or WebP image") from error
    return _rgb(ImageOps.exif_transpose(picture))


def _check_header(probe: Image.Image) -> None:
    if probe.format not in FORMATS:
        raise UnsupportedFormat("only JPEG, PNG and WebP images are accepted")
    width, height = probe.size
    if width * height > MAX_PIXELS:
        raise TooManyPixels(f"the image has more than {MAX_PIXELS} pixels")
    if width < 1 or height < 1:
        raise NotAnImage("the image is empty")


def _rgb(picture: Image.Image) -> Image.Image:
    """Opaque RGB: transparency is laid over the background colour."""
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        ground = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(ground, rgba).convert("RGB")
    return picture.convert("RGB")


def _cropped(picture: Image.Image) -> Image.Image:
    """The largest centred region of the cover's aspect ratio."""
    across, down = ASPECT
    width = max(1, min(picture.width, picture.height * across // down))
    height = max(1, width * down // across)  # at most the picture's height, by the line above
    left = (picture.width - width) // 2
    top = (picture.height - height) // 2
    return picture.crop((left, top, left + width, top + height))


def _rendition(picture: Image.Image, width: int) -> Rendition:
    height = max(1, round(width * picture.height / picture.width))
    resized = picture.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    bare = Image.frombytes("RGB", resized.size, resized.tobytes())  # pixels only, no info
    return Rendition(width, height, _encoded(bare, "WEBP"), _encoded(bare, "JPEG"))


def _encoded(picture: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "WEBP":
        picture.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
