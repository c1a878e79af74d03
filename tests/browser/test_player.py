"""A player in the browser: account, catalog search with typos, the game page, sessions."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.browser.conftest import (
    open_app,
    register,
    screenshot,
    search,
    sign_in,
    sign_out,
    wait_view,
)
from tests.e2e.api import PASSWORD
from tests.e2e.stack import Stack


def test_register_log_in_search_with_a_typo_and_open_the_game(page: Any, web_stack: Stack) -> None:
    account = register(page, web_stack)
    sign_out(page)
    sign_in(page, web_stack, account.email, account.password)

    open_app(page, web_stack)
    search(page, "witcer")
    first = page.locator("#resultados li").first
    assert "The Witcher 3" in first.inner_text()
    assert "para “witcer”" in page.locator("#resultado").inner_text()
    screenshot(page, "catalog")

    first.get_by_role("link").click()
    page.get_by_role("heading", name="The Witcher 3: Wild Hunt", level=1).wait_for()
    page.locator("#comprar").wait_for()
    assert page.get_by_label("Visa 4242… (aprovado)").is_checked()
    screenshot(page, "game")


def test_api_errors_show_their_detail_never_raw_json(page: Any, web_stack: Stack) -> None:
    missing = f"{web_stack.gateway_url}/jogos/{uuid.uuid4()}"
    detail = httpx.get(missing).json()["detail"]
    open_app(page, web_stack, f"#/jogos/{uuid.uuid4()}")
    alert = page.get_by_role("alert")
    assert alert.inner_text() == detail
    assert "{" not in page.locator("main").inner_text()

    account = register(page, web_stack)
    sign_out(page)
    open_app(page, web_stack, "#/cadastro")
    page.get_by_label("Nome").fill("Outra Pessoa")
    page.get_by_label("E-mail").fill(account.email.upper())
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Criar conta").click()
    taken = httpx.post(
        f"{web_stack.gateway_url}/users",
        json={"name": "X", "email": account.email, "password": PASSWORD},
    ).json()["detail"]
    page.locator(".form-message").get_by_text(taken).wait_for()

    open_app(page, web_stack, "#/entrar")
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Senha").fill("Wrong-pass-1!")
    page.get_by_role("button", name="Entrar", exact=True).click()
    page.locator(".form-message [role=alert]").wait_for()
    assert page.locator(".form-message").inner_text().strip() != ""
    assert page.get_by_role("button", name="Sair").count() == 0


def test_keyboard_alone_reaches_the_search_box_a_result_and_the_buy_button(
    page: Any, web_stack: Stack
) -> None:
    register(page, web_stack)
    page.goto(f"{web_stack.gateway_url}/#/jogos")
    wait_view(page, "/jogos")
    assert tab_until(page, "el => el.id === 'busca'", 15), "Tab never reached the search box"
    page.keyboard.type("hades", delay=20)
    page.wait_for_function("() => document.querySelector('#resultados')?.dataset.q === 'hades'")
    assert tab_until(page, "el => el.matches('#resultados a')", 15), "no result by Tab"
    assert "Hades" in page.evaluate("document.activeElement.textContent")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused link shows no focus ring"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#/jogos/[^/]+$"))  # the link was followed: a game's page
    wait_view(page, f"/jogos/{page.url.rsplit('/', 1)[-1]}")
    assert tab_until(page, "el => el.id === 'comprar'", 20), "Tab never reached the buy button"


def tab_until(page: Any, predicate: str, presses: int) -> bool:
    """Presses Tab until ``predicate(document.activeElement)`` holds; whether it did."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"({predicate})(document.activeElement)"):
            return True
    return False


def test_filters_sorts_and_pages_follow_the_facets(page: Any, web_stack: Stack) -> None:
    open_app(page, web_stack)
    page.locator(".shelf ul li").first.wait_for()
    screenshot(page, "catalog-home")
    genre = page.get_by_label("Gênero")
    options = genre.locator("option").all_inner_texts()
    assert any(text.startswith("RPG (") for text in options), options
    expected = int(next(t for t in options if t.startswith("RPG (")).split("(")[1].rstrip(")"))
    genre.select_option("RPG")
    wait_results(page, "genero=RPG")
    page.locator("#resultado").get_by_text(f"{expected} jogo").wait_for()
    page.get_by_label("Ordenar por").select_option("price_asc")
    wait_results(page, "ordem=price_asc")
    prices = prices_shown(page)
    assert prices == sorted(prices), prices
    page.get_by_label("Preço máximo (R$)").fill("100")
    wait_results(page, "max=100")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#resultados .price')].every("
        "p => Number(p.textContent.replace(/[^0-9,]/g, '').replace(',', '.')) <= 100)"
    )
    page.get_by_label("Preço máximo (R$)").fill("")
    genre.select_option("")
    wait_results(page, "", absent="genero")
    page.get_by_role("button", name="Próxima →").click()
    wait_results(page, "pagina=2")
    assert page.get_by_text("Página 2 de").is_visible()


def wait_results(page: Any, part: str, absent: str = "") -> None:
    """Waits until the results drawn are those of the current hash, which has ``part`` in it
    (and not ``absent``)."""
    page.wait_for_function(
        "([part, absent]) => location.hash.includes(part)"
        " && !(absent && location.hash.includes(absent))"
        " && document.querySelector('#resultados')?.dataset.hash === location.hash",
        arg=[part, absent],
    )


def prices_shown(page: Any) -> list[float]:
    """The prices of the cards shown, in reais (a free game shows "Grátis": 0)."""
    texts = page.locator("#resultados .price").all_inner_texts()
    return [
        0.0 if t == "Grátis" else float(t.replace("R$", "").replace(".", "").replace(",", "."))
        for t in texts
    ]
