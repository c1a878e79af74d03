"""The admin sees every process's state at a glance, and it refreshes by itself."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import screenshot, sign_in, wait_view
from tests.e2e.api import Account
from tests.e2e.stack import Stack


def test_an_admin_sees_every_process_up_and_ready(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    page.get_by_role("link", name="Admin: estado").click()
    wait_view(page, "/admin/estado")
    processes = page.get_by_role("table", name="Processos")
    processes.wait_for()
    for name in web_stack.processes:
        row = processes.get_by_role("row", name=name, exact=False).first
        assert "pronto" in row.inner_text(), row.inner_text()
    assert "Mensagens mortas" in page.get_by_role("table", name="Fluxos").inner_text()
    screenshot(page, "admin-status")
    before = processes.inner_text()
    page.wait_for_function(
        "before => document.querySelector('table')?.innerText !== before", arg=before, timeout=15000
    )  # the rates fill in on the next look


def test_the_status_is_closed_to_players(web_stack: Stack) -> None:
    import httpx

    anonymous = httpx.get(f"{web_stack.gateway_url}/admin/status", timeout=10)
    assert anonymous.status_code == 401
