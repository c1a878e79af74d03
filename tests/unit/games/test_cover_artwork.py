"""Generated cover artwork: deterministic, genre-coloured, the title escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gamestore.games.covers.artwork import PALETTES, artwork, artwork_digest, palette
from gamestore.games.covers.urls import ArtworkFile, UploadedCover, cover_public, parse_file

SVG = "{http://www.w3.org/2000/svg}"


def _text(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text"))


def test_the_same_title_and_genre_give_the_same_bytes() -> None:
    assert artwork("Hollow Knight", ["Metroidvania"]) == artwork("Hollow Knight", ["Metroidvania"])
    assert artwork_digest("Hollow Knight", ["Ação"]) == artwork_digest("Hollow Knight", ["Ação"])


def test_another_title_or_genre_gives_other_art() -> None:
    base = artwork("Celeste", ["Plataforma"])
    assert artwork("Celeste 2", ["Plataforma"]) != base
    assert artwork("Celeste", ["Terror"]) != base
    assert artwork_digest("Celeste", ["Plataforma"]) != artwork_digest("Celeste", ["Terror"])


def test_the_genre_picks_the_palette_accents_and_case_aside() -> None:
    assert palette(["AÇÃO", "RPG"]) == PALETTES["acao"]
    assert palette(["Estratégia"]) == PALETTES["estrategia"]
    assert palette(["Something New"]) == palette(["something new"])
    assert palette([]) == palette([""])  # no genre: still a palette, always the same


def test_the_palette_colours_are_in_the_drawing() -> None:
    dark, mid, bright = PALETTES["terror"]
    svg = artwork("Silent Hall", ["Terror"]).decode()
    assert dark in svg and mid in svg and bright in svg


def test_the_title_is_escaped_and_still_reads_whole() -> None:
    title = '<script>alert("x")</script> & </text><image href="//evil"/>'
    svg = artwork(title, ["RPG"])
    root = ET.fromstring(svg)  # well-formed: nothing of the title became markup
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}image"))
    assert b"<script>" not in svg
    assert "alert" in _text(svg) and "&" in _text(svg)


def test_control_characters_in_a_title_do_not_break_the_document() -> None:
    ET.fromstring(artwork("Tab\there\x0bvt", ["RPG"]))


def test_a_long_title_wraps_into_at_most_three_lines() -> None:
    title = "The Elder Scrolls V: Skyrim Special Anniversary Edition Remastered Deluxe Collection"
    root = ET.fromstring(artwork(title, ["RPG"]))
    assert 1 < len(list(root.iter(f"{SVG}text"))) <= 3


def test_a_game_without_an_upload_points_at_its_artwork() -> None:
    cover = cover_public("g1", "Celeste", ["Plataforma"], None)
    digest = artwork_digest("Celeste", ["Plataforma"])
    assert cover == {
        "url": f"/jogos/g1/capa/arte-{digest}.svg", "srcset": "", "webp_srcset": "",
        "width": 1280, "height": 720, "generated": True,
    }  # fmt: skip
    assert parse_file(f"arte-{digest}.svg") == ArtworkFile(digest)


def test_an_upload_lists_every_width_in_both_formats() -> None:
    digest = "0123456789abcdef0123"
    uploaded = UploadedCover(digest, ((320, 180), (640, 360)))
    cover = cover_public("g1", "Celeste", ["Plataforma"], uploaded)
    base = f"/jogos/g1/capa/{digest}"
    assert cover["url"] == f"{base}-640.jpg"
    assert cover["srcset"] == f"{base}-320.jpg 320w, {base}-640.jpg 640w"
    assert cover["webp_srcset"] == f"{base}-320.webp 320w, {base}-640.webp 640w"
    assert (cover["width"], cover["height"], cover["generated"]) == (640, 360, False)


def test_only_cover_file_names_parse() -> None:
    for name in ("../x.webp", "0123456789abcdef0123-0.webp", "0123456789abcdef0123-320.png",
                 "arte-xyz.svg", "0123456789ABCDEF0123-320.webp", ""):  # fmt: skip
        assert parse_file(name) is None
