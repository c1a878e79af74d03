"""The web app on a phone (390 by 844 px) and on a desktop: layout facts measured in Chromium.
Tables become cards whose every value shows whole, the catalog's filters fold away on a phone,
the menu's "Sair" sits on the links' line, toasts leave with the page they belong to and never
hide the end of a page, and the favicon is served.

Screenshots of each screen go to the scratch folder (``conftest.SCREENSHOTS``)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import (
    Shopper,
    open_app,
    page_at,
    screenshot,
    sign_in,
    wait_view,
)
from tests.e2e.api import PASSWORD, Account
from tests.e2e.stack import Stack

PHONE_WIDTH = 390
# True when ``el``'s text is cut (its content is wider than its box).
CUT = "el => el.scrollWidth > el.clientWidth"
# The part of ``el``'s box outside the viewport, in px (0: whole inside it).
OUTSIDE = (
    "el => { const r = el.getBoundingClientRect();"
    " return Math.max(0, -r.left, r.right - window.innerWidth); }"
)


def page_width(page: Any) -> int:
    width: int = page.evaluate("() => document.documentElement.scrollWidth")
    return width


def test_orders_on_a_phone_are_cards_with_the_status_whole_and_details_in_reach(
    browser: Any, web_stack: Stack, shopper: Shopper
) -> None:
    with page_at(browser, "phone") as page:
        sign_in(page, web_stack, shopper.email, PASSWORD)
        open_app(page, web_stack, "#/pedidos")
        rows = page.locator("main table tbody tr")
        assert rows.count() == 2
        assert page_width(page) <= PHONE_WIDTH, "the page scrolls sideways"
        assert page.locator("main table thead").bounding_box()["height"] <= 1  # for screen readers
        for status in page.locator("main td[data-status]").all():
            assert status.get_attribute("data-label") == "Situação"
            assert not status.evaluate(CUT), status.inner_text()
            assert status.inner_text() in ("concluído", "falhou", "aguardando pagamento")
        for link in page.get_by_role("link", name="Detalhes do pedido").all():
            assert link.is_visible() and link.evaluate(OUTSIDE) == 0
        screenshot(page, "phone-orders")


def test_admin_lists_on_a_phone_fit_the_screen(
    browser: Any, web_stack: Stack, web_admin: Account
) -> None:
    with page_at(browser, "phone") as page:
        sign_in(page, web_stack, web_admin.email, web_admin.password)
        for hash_path in ("#/admin/jogos", "#/admin/eventos", "#/admin/estado"):
            open_app(page, web_stack, hash_path)
            assert page_width(page) <= PHONE_WIDTH, f"{hash_path} scrolls sideways"
            screenshot(page, f"phone-admin-{hash_path.rsplit('/', 1)[-1]}")
        open_app(page, web_stack, "#/admin/jogos")
        delete = page.get_by_role("button", name="Excluir").first
        assert delete.evaluate(OUTSIDE) == 0
        title = page.locator("main td[data-label='Título']").first
        assert not title.evaluate(CUT)


def test_the_filters_fold_away_on_a_phone_and_stay_open_on_a_desktop(
    browser: Any, web_stack: Stack
) -> None:
    with page_at(browser, "phone") as page:
        open_app(page, web_stack)
        genre = page.get_by_label("Gênero")
        assert not genre.is_visible()
        assert page.locator("#busca").is_visible()
        summary = page.locator(".filters-box > summary")
        assert summary.inner_text() == "Filtros" and summary.evaluate(OUTSIDE) == 0
        results = page.locator("#resultados li").first
        assert results.bounding_box()["y"] < 844, "the first result is below the first screen"
        screenshot(page, "phone-catalog")
        summary.click()
        assert genre.is_visible()
        genre.select_option(index=1)
        page.wait_for_function("() => location.hash.includes('genero=')")
        page.reload()
        wait_view(page, "/jogos")
        assert page.get_by_label("Gênero").is_visible(), "a filter in use is shown"
    with page_at(browser, "desktop") as page:
        open_app(page, web_stack)
        assert page.get_by_label("Gênero").is_visible()
        screenshot(page, "desktop-catalog")


def test_sair_sits_on_the_line_of_the_menu_links(
    browser: Any, web_stack: Stack, shopper: Shopper
) -> None:
    for size in ("desktop", "phone"):
        with page_at(browser, size) as page:
            sign_in(page, web_stack, shopper.email, PASSWORD)
            out = page.get_by_role("button", name="Sair").bounding_box()
            links = [link.bounding_box() for link in page.locator("#menu a").all()]
            assert all(abs(out["height"] - box["height"]) <= 1 for box in links), (out, links)
            # every link on Sair's line (the menu wraps on a phone) has the same top
            beside = [
                b
                for b in links
                if b["y"] < out["y"] + out["height"] and out["y"] < b["y"] + b["height"]
            ]
            assert all(abs(out["y"] - box["y"]) <= 1 for box in beside), (size, out, beside)
            if size == "desktop":
                assert beside, "Sair is alone on its line at a desktop width"


def test_a_toast_leaves_with_its_page_and_never_hides_the_end_of_one(
    browser: Any, web_stack: Stack, shopper: Shopper
) -> None:
    with page_at(browser, "phone") as page:
        sign_in(page, web_stack, shopper.email, PASSWORD)
        toast = page.locator("#aviso")
        assert toast.inner_text() == "Você entrou na sua conta."  # it announces this page
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        last = page.locator("main > section > :last-child")
        assert (
            last.bounding_box()["y"] + last.bounding_box()["height"] <= (toast.bounding_box()["y"])
        ), "the toast covers the end of the page"
        screenshot(page, "phone-toast")
        page.locator("#menu a", has_text="Biblioteca").click()
        wait_view(page, "/biblioteca")
        assert toast.inner_text() == "", "the toast followed the user to another page"


def test_a_toast_hides_itself_when_clicked(
    browser: Any, web_stack: Stack, shopper: Shopper
) -> None:
    with page_at(browser, "desktop") as page:
        sign_in(page, web_stack, shopper.email, PASSWORD)
        toast = page.locator("#aviso")
        toast.click()
        assert toast.inner_text() == ""


def test_the_favicon_is_served_and_no_page_asks_for_a_missing_file(
    browser: Any, web_stack: Stack
) -> None:
    icon = httpx.get(f"{web_stack.gateway_url}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    with page_at(browser, "desktop") as page:
        missing: list[str] = []
        page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        open_app(page, web_stack)
        page.wait_for_load_state("networkidle")
        assert not missing, missing
        assert page.evaluate("() => document.querySelector('link[rel=icon]').href").endswith(
            "/favicon.svg"
        )
