"""Buying in the browser, through the whole saga (games, payments, the payment worker, the PSP
simulator, the notifier): the order's status changes on the page without a reload.

When a payment process is missing, the page shows the API's message and the test fails with
it at once.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import open_app, register, screenshot, sign_in, wait_view
from tests.e2e.api import Account
from tests.e2e.stack import Stack

SAGA_MS = 30_000  # the whole saga, generously (it takes a second or two here)


def game_id(stack: Stack, title: str) -> str:
    found = httpx.get(f"{stack.gateway_url}/jogos/busca", params={"q": title}).json()["items"]
    assert found, f"no game found for {title!r}"
    return str(found[0]["id"])


def buy(page: Any, stack: Stack, title: str, card: str) -> str:
    """Opens the game's page, buys it with ``card``; the order's id (from the page's link)."""
    open_app(page, stack, f"#/jogos/{game_id(stack, title)}")
    page.locator(".buy").get_by_label(card).check()
    page.get_by_role("button", name="Comprar por").click()
    tracker = page.locator(".tracker, .buy .error")
    tracker.first.wait_for()
    assert page.locator(".tracker").count() == 1, page.locator(".buy .error").inner_text()
    return str(page.locator(".tracker").get_attribute("data-order"))


def wait_status(page: Any, key: str) -> str:
    """Waits for the order's status ``key``; fails at once with the page's message when the
    tracker shows an error instead (e.g. the payments service is not running)."""
    status = page.locator(f".order-status[data-status={key}]")
    status.or_(page.locator(".tracker-details .error")).first.wait_for(timeout=SAGA_MS)
    if not status.count():
        raise AssertionError(page.locator(".tracker-details .error").inner_text())
    return str(status.inner_text())


def test_buy_with_visa_completes_and_the_game_is_in_the_library(
    page: Any, context: Any, web_stack: Stack, web_admin: Account
) -> None:
    register(page, web_stack)
    buy(page, web_stack, "Hades", "Visa 4242… (aprovado)")
    assert page.locator(".order-status").inner_text() in ("aguardando pagamento", "concluído")
    assert wait_status(page, "completed") == "concluído"
    page.get_by_text("Pagamento aprovado").first.wait_for()
    screenshot(page, "purchase-done")

    page.get_by_role("link", name="Ver na biblioteca").click()
    wait_view(page, "/biblioteca")
    assert "Hades" in page.locator("main").inner_text()
    screenshot(page, "library")

    open_app(page, web_stack, "#/pedidos")
    assert "concluído" in page.locator("main table").inner_text()
    open_app(page, web_stack, "#/notificacoes")
    admin = context.browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    follow_the_purchase_in_the_event_store(admin, web_stack, web_admin)


def follow_the_purchase_in_the_event_store(page: Any, stack: Stack, admin: Account) -> None:
    sign_in(page, stack, admin.email, admin.password)
    open_app(page, stack, "#/admin/eventos?type=PurchaseCompleted")
    rows = page.locator("main table tbody tr")
    rows.first.wait_for()
    rows.first.get_by_role("button", name="Seguir a correlação").click()  # the newest: ours
    page.wait_for_function("() => location.hash.includes('correlation_id=')")
    page.locator("main table").get_by_text("PaymentSucceeded").first.wait_for()
    types = page.locator("main table tbody tr td:nth-child(3)").all_inner_texts()
    assert {"OrderCreated", "PaymentRequested", "PaymentSucceeded"} <= set(types), types
    screenshot(page, "admin-events")
    page.context.close()


def test_a_declined_card_shows_the_reason_and_a_retry_with_visa_succeeds(
    page: Any, web_stack: Stack
) -> None:
    register(page, web_stack)
    order = buy(page, web_stack, "Celeste", "Visa 0002… (recusado)")
    assert wait_status(page, "failed") == "falhou: cartão recusado"
    retry = page.locator(".retry")
    retry.get_by_label("Visa 4242… (aprovado)").check()
    retry.get_by_role("button", name="Tentar pagar de novo").click()
    assert wait_status(page, "completed") == "concluído"

    open_app(page, web_stack, f"#/pedidos/{order}")
    payments = page.locator("main ul.plain > li")
    payments.nth(1).wait_for(timeout=SAGA_MS)
    text = page.locator("main").inner_text()
    assert "cartão recusado" in text and "aprovado" in text


def test_a_payment_that_keeps_failing_reaches_the_dead_letters_and_an_admin_clears_it(
    page: Any, context: Any, web_stack: Stack, web_admin: Account
) -> None:
    register(page, web_stack)
    order = buy(page, web_stack, "Stardew Valley", "Visa 0119… (erro de processamento)")
    assert wait_status(page, "failed") == "falhou: erro no processamento do pagamento"
    open_app(page, web_stack, "#/notificacoes")
    page.locator("main li").first.wait_for(timeout=SAGA_MS)

    admin = context.browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(admin, web_stack, web_admin.email, web_admin.password)
    open_app(admin, web_stack, "#/admin/dlq")
    rows = admin.locator("main tbody tr")
    mine = rows.filter(has_text=order) if rows.filter(has_text=order).count() else rows
    assert mine.count() >= 1, admin.locator("main").inner_text()
    screenshot(admin, "admin-dlq")
    before = rows.count()
    mine.first.get_by_role("button", name="Descartar").click()
    admin.get_by_role("dialog").get_by_role("button", name="Descartar").click()
    admin.get_by_text("Mensagem descartada.").wait_for()
    admin.wait_for_function(
        "n => document.querySelectorAll('main tbody tr').length === n", arg=before - 1
    )
    admin.context.close()
