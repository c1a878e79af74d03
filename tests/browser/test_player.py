"""A player in the browser: account, catalog search with typos, the game page, sessions."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import open_app, register, screenshot, search, sign_in
from tests.e2e.stack import Stack


def test_register_log_in_search_with_a_typo_and_open_the_game(page: Any, web_stack: Stack) -> None:
    account = register(page, web_stack)
    page.get_by_role("button", name="Sair").click()
    page.get_by_role("link", name="Entrar").wait_for()
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
