"""The admin sees every process's state at a glance, refreshed by itself: a process that goes
down shows within a refresh, on a desktop and on a phone-sized screen."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.browser.conftest import screenshot, sign_in, wait_view
from tests.e2e.api import Account
from tests.e2e.stack import Stack

REFRESH_WAIT_MS = 15_000  # the panel looks again every 5 s
VICTIM = "webhook-function"  # nothing a page shows depends on it


def open_status(page: Any, stack: Stack, admin: Account) -> Any:
    """Signs in, opens the status screen from the menu; its table of processes."""
    sign_in(page, stack, admin.email, admin.password)
    page.get_by_role("link", name="Admin: estado").click()
    wait_view(page, "/admin/estado")
    processes = page.get_by_role("table", name="Processos")
    processes.wait_for()
    return processes


def cells(processes: Any, name: str) -> list[str]:
    row = processes.locator(f'tr[data-process="{name}"]')
    return [text.strip() for text in row.locator("th, td").all_inner_texts()]


def test_an_admin_sees_every_process_up_and_ready(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    processes = open_status(page, web_stack, web_admin)
    count = len(web_stack.processes)
    verdict = page.get_by_role("status").filter(has_text="processos no ar")
    assert verdict.inner_text() == f"Todos os {count} processos no ar e prontos."
    for name in web_stack.processes:
        assert cells(processes, name)[:3] == [name, "no ar", "pronto"], cells(processes, name)
    assert cells(processes, "gateway")[3] == "—", "not under a supervisor: no restart count"
    flows = page.get_by_role("table", name="Fluxos").inner_text()
    for words in ("Consumidor games", "Fila payments", "Mensagens mortas", "Outbox de games"):
        assert words in flows, flows
    screenshot(page, "admin-status")
    before = processes.inner_text()
    page.wait_for_function(
        "before => document.querySelector('table')?.innerText !== before",
        arg=before,
        timeout=REFRESH_WAIT_MS,
    )  # the rates fill in on the next look


def test_a_process_that_goes_down_shows_within_a_refresh(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    processes = open_status(page, web_stack, web_admin)
    web_stack.kill(VICTIM)
    try:
        page.get_by_role("status").filter(has_text=f"Atenção: {VICTIM} fora do ar").wait_for(
            timeout=REFRESH_WAIT_MS
        )
        assert cells(processes, VICTIM)[1:3] == ["fora do ar", "—"]
        assert cells(processes, "games")[1:3] == ["no ar", "pronto"]
    finally:
        web_stack.restart(VICTIM)
        wait_ready(web_stack, VICTIM)
    page.get_by_role("status").filter(has_text="Todos os").wait_for(timeout=REFRESH_WAIT_MS)


def test_the_panel_fits_a_phone(browser: Any, web_stack: Stack, web_admin: Account) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
    try:
        page = phone.new_page()
        processes = open_status(page, web_stack, web_admin)
        assert page.get_by_role("status").filter(has_text="Todos os").is_visible()
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the page scrolls sideways: {width}"
        # under 600 px the table is a list of cards: nothing to scroll, every cell in view
        region = page.get_by_role("region", name="Processos")
        overflow = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
        assert overflow[0] <= overflow[1], f"the processes overflow their region: {overflow}"
        row = processes.locator('tr[data-process="games"]')
        assert row.locator("th").is_visible()
        shown = [cell for cell in row.locator("> *").all() if cell.is_visible()]  # empty: hidden
        assert len(shown) >= 3
        for cell in shown:
            box = cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        screenshot(page, "admin-status-phone")
    finally:
        phone.close()


def test_the_status_is_closed_to_players(web_stack: Stack) -> None:
    anonymous = httpx.get(f"{web_stack.gateway_url}/admin/status", timeout=10)
    assert anonymous.status_code == 401


def wait_ready(stack: Stack, name: str, timeout: float = 30.0) -> None:
    url = stack.env[f"GAMESTORE_{name.upper().replace('-', '_')}_URL"]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{name} not ready again"
        time.sleep(0.1)
