"""Images built in memory for the cover tests: real encodings, with metadata where asked."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
MAKE = 0x010F


def image_bytes(
    kind: str = "PNG", size: tuple[int, int] = (1600, 900), *, exif: bool = False, **save: object
) -> bytes:
    """A ``size`` image in format ``kind``: a gradient (not one flat colour), with an EXIF
    block naming a camera and a GPS position when ``exif``."""
    picture = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[MAKE] = "SpyCam"
        data.get_ifd(GPS_IFD).update({1: "S", 2: (23.0, 33.0, 1.0), 3: "W", 4: (46.0, 38.0, 2.0)})
        save["exif"] = data.tobytes()
    picture.save(out, kind, **save)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with one tiny compressed row: the
    shape of a decompression bomb, without the bomb."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )  # fmt: skip
