"""Covers in the browser: an admin uploads a PNG and the catalog card shows it; a game without
an upload shows its generated artwork. Both images must really load (naturalWidth > 0)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import (
    open_app,
    screenshot,
    search,
    sign_in,
    unique_title,
    wait_searchable,
    wait_view,
)
from tests.browser.test_admin import create_game
from tests.covers_support import image_bytes
from tests.e2e.api import Account
from tests.e2e.stack import Stack

LOADED = "img => img.complete && img.naturalWidth > 0"


def _card_image(page: Any, title: str) -> Any:
    card = page.locator("#resultados .card", has_text=title)
    image = card.get_by_role("img", name=f"Capa de {title}")
    image.wait_for()
    return image


def test_an_uploaded_cover_shows_on_the_card_and_artwork_stands_in_otherwise(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    title = unique_title("Capa Enviada")
    plain = unique_title("Sem Capa")
    game = create_game(web_stack, web_admin, title)
    create_game(web_stack, web_admin, plain)

    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, f"#/admin/jogos/{game['id']}")
    upload = {"name": "capa.png", "mimeType": "image/png", "buffer": image_bytes("PNG", (960, 540))}
    page.get_by_label("Nova imagem de capa").set_input_files(upload)
    page.get_by_role("button", name="Enviar capa").click()
    page.get_by_text("A capa foi atualizada.").wait_for()
    preview = page.locator(".cover-admin img")
    page.wait_for_function(
        "img => /\\.jpg$/.test(img.getAttribute('src'))", arg=preview.element_handle()
    )

    screenshot(page, "covers-admin")

    wait_searchable(web_stack, 1, title)
    open_app(page, web_stack)
    search(page, title)
    uploaded = _card_image(page, title)
    assert uploaded.get_attribute("src").endswith("-640.jpg")  # 960 px wide: 320 and 640
    assert "640w" in uploaded.get_attribute("srcset")
    assert (uploaded.get_attribute("width"), uploaded.get_attribute("height")) == ("640", "360")
    page.wait_for_function(LOADED, arg=uploaded.element_handle())
    assert (
        page.locator("#resultados .card", has_text=title).locator("source").get_attribute("type")
        == "image/webp"
    )
    screenshot(page, "covers-uploaded")

    wait_searchable(web_stack, 1, plain)
    search(page, plain)
    artwork = _card_image(page, plain)
    assert artwork.get_attribute("src").endswith(".svg")
    assert (artwork.get_attribute("width"), artwork.get_attribute("height")) == ("1280", "720")
    page.wait_for_function(LOADED, arg=artwork.element_handle())

    open_app(page, web_stack, f"#/jogos/{game['id']}")
    wait_view(page, f"/jogos/{game['id']}")
    hero = page.locator("article.game").get_by_role("img", name=f"Capa de {title}")
    assert hero.get_attribute("loading") == "eager"
    page.wait_for_function(LOADED, arg=hero.element_handle())
    screenshot(page, "covers-game")
