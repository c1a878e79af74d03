"""Images built in memory for the cover tests: real encodings, with metadata where asked."""

from __future__ import annotations

import io

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
