"""Sessions in the browser: access tokens live 2 seconds here, and the player never notices.

Before expiry the page refreshes on its own; with the page's clock stopped it cannot know, so
the API's 401 triggers the refresh and the call is retried; concurrent calls share one refresh
(the users service rotates refresh tokens: a second refresh with the same one would end the
session).
"""

from __future__ import annotations

import time
from typing import Any

from tests.browser.conftest import TOKEN_TTL, Watch, open_app, register, wait_view
from tests.e2e.stack import Stack

# Lets a test stop the page's clock (Date.now) while real time goes on.
FREEZABLE_CLOCK = """
(() => {
  const realNow = Date.now.bind(Date);
  let frozen = null;
  Date.now = () => (frozen === null ? realNow() : frozen);
  window.__freezeClock = () => { frozen = realNow(); };
})();
"""


def test_an_expired_session_refreshes_before_the_next_call(
    page: Any, web_stack: Stack, watch: Watch
) -> None:
    register(page, web_stack)
    time.sleep(TOKEN_TTL + 0.5)
    refreshes = watch.calls("POST", "/login/refresh")
    open_app(page, web_stack, "#/biblioteca")
    page.get_by_role("heading", name="Sua biblioteca").wait_for()
    assert watch.calls("POST", "/login/refresh") == refreshes + 1
    assert (401, "/biblioteca") not in watch.responses
    assert page.get_by_role("button", name="Sair").is_visible()


def test_a_401_refreshes_once_and_retries_even_for_concurrent_calls(
    context: Any, web_stack: Stack, watch: Watch
) -> None:
    context.add_init_script(FREEZABLE_CLOCK)
    page = context.new_page()
    watch.attach(page)
    register(page, web_stack)
    page.evaluate("() => window.__freezeClock()")
    time.sleep(TOKEN_TTL + 0.5)
    before = watch.calls("POST", "/login/refresh")
    statuses = page.evaluate(
        """async () => {
          const api = await import(document.querySelector('script[type=module]').src
            .replace('main.js', 'api.js'));
          const calls = [0, 1, 2, 3].map(() => api.authed('GET', '/biblioteca').then(() => 'ok'));
          return Promise.all(calls);
        }"""
    )
    assert statuses == ["ok"] * 4
    assert (401, "/biblioteca") in watch.responses  # the token really had expired
    assert watch.calls("POST", "/login/refresh") == before + 1
    assert not watch.errors, watch.errors


def test_a_session_that_cannot_refresh_asks_to_sign_in_again(page: Any, web_stack: Stack) -> None:
    register(page, web_stack)
    page.evaluate("() => sessionStorage.setItem('gamestore.refresh', 'revoked-or-forged')")
    time.sleep(TOKEN_TTL + 0.5)
    page.goto(f"{web_stack.gateway_url}/#/pedidos")
    wait_view(page, "/entrar")
    assert "volta=" in page.url
    assert page.get_by_role("link", name="Entrar").is_visible()


def test_a_reload_keeps_the_session_of_the_tab(page: Any, web_stack: Stack) -> None:
    register(page, web_stack)
    page.reload()
    wait_view(page, "/jogos")
    page.get_by_role("button", name="Sair").wait_for()
    page.get_by_role("heading", name="Recomendados para você").wait_for()
