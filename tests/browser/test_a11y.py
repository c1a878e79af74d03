"""Accessibility: axe-core (``node_modules/axe-core``, installed by ``make`` with ``npm ci``) run
in real Chromium on every screen of the web app, as a visitor, a player and an admin, at a
desktop and a phone size. Any ``serious`` or ``critical`` violation fails, listed with the
screen, the rule and the elements.

axe is evaluated through Playwright (DevTools' evaluation, which the page's strict
Content-Security-Policy does not apply to), so the page runs exactly as served. Without
``node_modules`` the tests are skipped with the reason, and fail under
``GAMESTORE_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    SIZES,
    Shopper,
    _unavailable,
    game_id,
    page_at,
    sign_in,
    wait_view,
)
from tests.e2e.api import PASSWORD, Account
from tests.e2e.stack import Stack

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")
SETTLE_MS = 5_000
# Every screen of the app; {game}, {owned}, {done} and {failed} are filled from the fixtures.
VISITOR = ["#/jogos", "#/jogos/{game}", "#/entrar", "#/cadastro", "#/nada-aqui"]
PLAYER = [
    "#/jogos",
    "#/jogos?q=hades&genero=Roguelike",
    "#/jogos/{game}",
    "#/jogos/{owned}",
    "#/biblioteca",
    "#/pedidos",
    "#/pedidos/{done}",
    "#/pedidos/{failed}",
    "#/notificacoes",
]
ADMIN = [
    "#/admin/jogos",
    "#/admin/jogos/novo",
    "#/admin/jogos/{game}",
    "#/admin/dlq",
    "#/admin/eventos",
    "#/admin/estado",
]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        _unavailable(f"axe-core is not installed at {AXE} (make installs it: npm ci)")
    return AXE.read_text()


@pytest.fixture(params=sorted(SIZES))
def sized_page(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[str, Any]]:
    with page_at(browser, request.param) as page:
        yield request.param, page


def violations(page: Any, axe_source: str) -> list[str]:
    """The serious and critical axe violations of the page as drawn now, one line each."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
        ".map((v) => ({ id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in FAILING
    ]


def settle(page: Any) -> None:
    """Waits for the parts a view loads after drawing itself (shelves, payments, trackers)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # a view still loading is audited as it is
        page.wait_for_function(
            "() => !document.getElementById('conteudo').innerText.includes('Carregando')",
            timeout=SETTLE_MS,
        )


def audit(page: Any, stack: Stack, screens: list[str], axe_source: str, **ids: str) -> list[str]:
    """Opens every screen in turn (a full load each) and gathers its violations."""
    found: list[str] = []
    for screen in screens:
        hash_path = screen.format(**ids)
        page.goto(f"{stack.gateway_url}/{hash_path}")
        wait_view(page, hash_path.removeprefix("#").split("?")[0])
        settle(page)
        found += [f"{screen}: {line}" for line in violations(page, axe_source)]
    return found


def test_every_screen_for_a_visitor_has_no_serious_violation(
    axe_source: str, sized_page: tuple[str, Any], web_stack: Stack
) -> None:
    size, page = sized_page
    found = audit(page, web_stack, VISITOR, axe_source, game=game_id(web_stack, "Hades"))
    assert not found, f"{size}:\n" + "\n".join(found)


def test_every_screen_for_a_player_has_no_serious_violation(
    axe_source: str, sized_page: tuple[str, Any], web_stack: Stack, shopper: Shopper
) -> None:
    size, page = sized_page
    sign_in(page, web_stack, shopper.email, PASSWORD)
    ids = {"owned": shopper.owned, "done": shopper.done, "failed": shopper.failed}
    found = audit(page, web_stack, PLAYER, axe_source, game=game_id(web_stack, "Stardew"), **ids)
    assert not found, f"{size}:\n" + "\n".join(found)


def test_every_admin_screen_has_no_serious_violation(
    axe_source: str, sized_page: tuple[str, Any], web_stack: Stack, web_admin: Account
) -> None:
    size, page = sized_page
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    found = audit(page, web_stack, ADMIN, axe_source, game=game_id(web_stack, "Hades"))
    assert not found, f"{size}:\n" + "\n".join(found)
