"""Uploaded covers: the type read from the bytes, sizes bounded, metadata gone, never upscaled."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gamestore.games.covers.images import (
    MAX_PIXELS,
    NotAnImage,
    TooManyPixels,
    UnsupportedFormat,
    process,
    target_widths,
)
from tests.covers_support import GPS_IFD, MAKE, image_bytes, png_header_claiming


def test_a_gif_is_refused_as_unsupported_whatever_it_claims() -> None:
    with pytest.raises(UnsupportedFormat) as caught:
        process(image_bytes("GIF"))
    assert caught.value.status == 415


def test_text_is_not_an_image() -> None:
    with pytest.raises(NotAnImage) as caught:
        process(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    assert caught.value.status == 422


def test_a_png_signature_followed_by_garbage_is_refused() -> None:
    with pytest.raises(NotAnImage):
        process(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)


def test_a_truncated_jpeg_is_refused() -> None:
    whole = image_bytes("JPEG")
    with pytest.raises(NotAnImage):
        process(whole[: len(whole) // 2])


def test_a_png_with_a_broken_checksum_is_refused() -> None:
    whole = bytearray(image_bytes("PNG", (400, 225)))
    whole[-20] ^= 0xFF  # inside the last IDAT chunk's data or checksum
    with pytest.raises(NotAnImage):
        process(bytes(whole))


def test_a_canvas_over_the_pixel_limit_is_refused_before_decoding() -> None:
    side = int(MAX_PIXELS**0.5) + 10
    with pytest.raises(TooManyPixels) as caught:
        process(png_header_claiming(side, side))
    assert caught.value.status == 413


def test_a_huge_claimed_canvas_is_refused_too() -> None:
    with pytest.raises(TooManyPixels):
        process(png_header_claiming(100_000, 100_000))


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_each_accepted_format_gives_webp_and_jpeg_at_every_width(kind: str) -> None:
    cover = process(image_bytes(kind, (1600, 900)))
    assert cover.widths == (320, 640, 1280)
    for rendition in cover.renditions:
        for body, expected in ((rendition.webp, "WEBP"), (rendition.jpeg, "JPEG")):
            with Image.open(io.BytesIO(body)) as decoded:
                assert decoded.format == expected
                assert decoded.size == (rendition.width, rendition.height)
        assert rendition.height == rendition.width * 9 // 16


def test_a_small_image_is_never_upscaled() -> None:
    cover = process(image_bytes("PNG", (500, 300)))
    assert cover.widths == (320,)
    assert target_widths(200) == (200,)
    assert target_widths(700) == (320, 640)
    only = process(image_bytes("PNG", (200, 200)))
    assert only.widths == (200,)
    assert only.renditions[0].height == 112  # cropped to 16:9, not stretched


def test_a_portrait_image_is_cropped_to_the_cover_shape() -> None:
    cover = process(image_bytes("JPEG", (900, 1600)))
    assert [(r.width, r.height) for r in cover.renditions] == [(320, 180), (640, 360)]


def test_exif_and_gps_are_gone_from_every_file() -> None:
    upload = image_bytes("JPEG", (1600, 900), exif=True)
    with Image.open(io.BytesIO(upload)) as original:  # the fixture really carries them
        assert original.getexif()[MAKE] == "SpyCam"
        assert original.getexif().get_ifd(GPS_IFD)
    cover = process(upload)
    for rendition in cover.renditions:
        for body in (rendition.webp, rendition.jpeg):
            assert b"SpyCam" not in body and b"Exif" not in body
            with Image.open(io.BytesIO(body)) as decoded:
                assert len(decoded.getexif()) == 0
                assert "exif" not in decoded.info and "icc_profile" not in decoded.info
                assert "xmp" not in decoded.info


def test_an_icc_profile_and_png_text_are_dropped() -> None:
    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cover = process(image_bytes("PNG", (640, 360), pnginfo=info, icc_profile=profile))
    for body in (cover.renditions[0].webp, cover.renditions[0].jpeg):
        assert b"secret location" not in body
        with Image.open(io.BytesIO(body)) as decoded:
            assert "icc_profile" not in decoded.info


def test_transparency_is_laid_over_the_background() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (640, 360), (255, 0, 0, 0)).save(out, "PNG")
    cover = process(out.getvalue())
    with Image.open(io.BytesIO(cover.renditions[0].jpeg)) as decoded:
        red, green, blue = decoded.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert red < 60 and green < 60 and blue < 60  # the dark ground, not red


def test_the_same_upload_gives_the_same_digest_and_another_upload_another() -> None:
    upload = image_bytes("PNG", (800, 450))
    assert process(upload).digest == process(upload).digest
    assert process(upload).digest != process(image_bytes("PNG", (800, 900))).digest
    assert len(process(upload).digest) == 20
