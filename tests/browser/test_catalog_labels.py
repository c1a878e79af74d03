"""What the catalog shows for stored ids and prices: Portuguese genre, platform and tag names,
"Grátis" for a free game, while filters and the address keep the stable ids."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import open_app, register, search
from tests.e2e.stack import Stack


def test_a_free_game_s_card_shows_gratis_and_portuguese_genres(page: Any, web_stack: Stack) -> None:
    open_app(page, web_stack)
    search(page, "fortnite")
    card = page.locator("#resultados li").first
    assert "Fortnite" in card.locator(".card-title").inner_text()
    assert card.locator(".price").inner_text() == "Grátis"
    meta = card.locator(".meta").inner_text()
    assert "Tiro" in meta and "Ação" in meta and "Sobrevivência" in meta, meta
    assert "Shooter" not in meta and "Action" not in meta, meta


def test_a_free_game_s_page_offers_it_for_free(page: Any, web_stack: Stack) -> None:
    register(page, web_stack)
    open_app(page, web_stack)
    search(page, "fortnite")
    page.locator("#resultados li").first.get_by_role("link").click()
    page.get_by_role("heading", name="Fortnite", level=1).wait_for()
    assert page.locator(".price.big").inner_text() == "Grátis"
    assert page.locator("#comprar").inner_text() == "Obter grátis"


def test_a_priced_game_shows_reais_and_its_page_speaks_portuguese(
    page: Any, web_stack: Stack
) -> None:
    open_app(page, web_stack)
    search(page, "hades")
    card = page.locator("#resultados li").first
    assert card.locator(".price").inner_text() == "R$ 47,99"
    card.get_by_role("link").click()
    page.get_by_role("heading", name="Hades", level=1).wait_for()
    facts = page.locator(".facts").inner_text()
    assert "Roguelike, Ação, Indie" in facts, facts
    assert "um jogador" in facts and "ritmo acelerado" in facts and "mitologia" in facts, facts
    assert "fast-paced" not in facts, facts


def test_the_genre_filter_shows_labels_and_keeps_ids_in_the_address(
    page: Any, web_stack: Stack
) -> None:
    open_app(page, web_stack)
    genre = page.get_by_label("Gênero")
    genre.locator("option", has_text="Ação (").first.wait_for(state="attached")
    texts = genre.locator("option").all_inner_texts()
    assert any(text.startswith("Ação (") for text in texts), texts
    assert not any(text.startswith("Action (") for text in texts), texts
    genre.select_option("Action")  # the option's value is the stored id
    page.wait_for_function("() => location.hash.includes('genero=Action')")
