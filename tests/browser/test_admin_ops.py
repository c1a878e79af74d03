"""An admin's operations screens in the browser: the event log newest first with its filters
and "mais antigos" pages; a dead letter with its correlation id, replayed or discarded only
after a confirmation, coming back live when the replay fails again; the catalog narrowed by
title as the admin types."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.browser.conftest import open_app, screenshot, sign_in, unique_title, wait_view
from tests.browser.test_admin import create_game, fresh_auth, game_body
from tests.e2e.api import PASSWORD, Account, unique_email
from tests.e2e.stack import Stack

PROCESSING_ERROR = "pm_card_chargeDeclinedProcessingError"
WAIT_S = 30
# the events table's first position, once the view has drawn the page asked for
_FIRST = "Number(document.querySelector('main table tbody tr td')?.innerText)"
FIRST_ROW_BELOW = f"limit => {_FIRST} < limit"
FIRST_ROW_AT_LEAST = f"head => {_FIRST} >= head"


def positions(page: Any) -> list[int]:
    return [int(p) for p in page.locator("main table tbody tr td:nth-child(1)").all_inner_texts()]


def column(page: Any, n: int) -> list[str]:
    texts: list[str] = page.locator(f"main table tbody tr td:nth-child({n})").all_inner_texts()
    return texts


def newest_position(stack: Stack, admin: Account) -> int:
    params: dict[str, str | int] = {"order": "desc", "limit": 1}
    body = httpx.get(
        f"{stack.gateway_url}/admin/events", params=params, headers=fresh_auth(stack, admin)
    ).json()
    return int(body["items"][0]["position"])


def more_events_than_a_page(stack: Stack, admin: Account, page_size: int = 100) -> None:
    """New games until the log holds more than a page of the screen's (GameCreated each)."""
    missing = page_size + 10 - newest_position(stack, admin)
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        for n in range(max(missing, 0)):
            if n % 10 == 0:
                auth = fresh_auth(stack, admin)  # access tokens live 2 s here
            body = {**game_body(unique_title("Volume")), "price_cents": 990}
            assert http.post("/jogos", json=body, headers=auth).status_code == 201


def test_events_open_at_the_newest_and_page_back_to_older_ones(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    more_events_than_a_page(web_stack, web_admin)
    create_game(web_stack, web_admin, unique_title("Recente"))  # something new on top
    head = newest_position(web_stack, web_admin)
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/eventos")

    first = positions(page)
    assert first[0] >= head and first == sorted(first, reverse=True), first
    assert "os mais recentes primeiro" in page.get_by_role("status").first.inner_text()
    page.get_by_role("link", name="Mais antigos →").click()
    page.wait_for_function("() => location.hash.includes('before=')")
    wait_view(page, "/admin/eventos")
    page.wait_for_function(FIRST_ROW_BELOW, arg=min(first))  # the older page drawn
    older = positions(page)
    assert older and max(older) < min(first) and older == sorted(older, reverse=True), older
    page.get_by_role("link", name="⇤ Mais recentes").click()
    page.wait_for_function("() => !location.hash.includes('before=')")
    wait_view(page, "/admin/eventos")
    page.wait_for_function(FIRST_ROW_AT_LEAST, arg=head)  # the newest page drawn again
    assert positions(page) == sorted(positions(page), reverse=True)


def test_events_filtered_by_type_then_by_a_correlation_id(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    title = unique_title("Filtrado")
    create_game(web_stack, web_admin, title)
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/eventos")

    page.get_by_role("combobox", name="Tipo").fill("GameCreated")
    page.get_by_role("button", name="Filtrar", exact=True).click()
    page.wait_for_function("() => location.hash.includes('type=GameCreated')")
    wait_view(page, "/admin/eventos")
    assert set(column(page, 3)) == {"GameCreated"}
    assert positions(page) == sorted(positions(page), reverse=True)
    newest = page.locator("main table tbody tr").first
    assert title in newest.locator("details pre").text_content()  # the game just created

    newest.get_by_role("button", name="Seguir a correlação").click()
    page.wait_for_function("() => location.hash.includes('correlation_id=')")
    wait_view(page, "/admin/eventos")
    first_row = page.locator("main table tbody tr").first
    corr = first_row.get_by_role("button", name="Seguir a correlação").inner_text()
    assert set(column(page, 5)) == {corr}
    assert "GameCreated" in column(page, 3)
    screenshot(page, "admin-events-newest")


def dead_letter_of_a_new_purchase(stack: Stack, admin: Account) -> dict[str, Any]:
    """A player's purchase with a card that always fails: its dead letter, once it is one."""
    with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
        email = unique_email("dlq")
        body = {"name": "Bia", "email": email, "password": PASSWORD}
        assert http.post("/users", json=body).status_code == 201
        token = http.post("/login/auth", json={"email": email, "password": PASSWORD}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        game = create_game(stack, admin, unique_title("Sem Sorte"))
        bought = http.post(
            "/jogos/compra",
            json={"game_id": game["id"], "payment_method": PROCESSING_ERROR},
            headers={**auth, "X-Request-ID": f"req-{uuid.uuid4().hex[:12]}"},
        )
        assert bought.status_code == 202, bought.text
        payment_id = bought.json()["payment_id"]
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            listed = http.get("/admin/dlq", headers=fresh_auth(stack, admin)).json()["items"]
            mine = [i for i in listed if i["message"].get("payment_id") == payment_id]
            if mine:
                return dict(mine[0])
            time.sleep(0.2)
    raise AssertionError(f"no dead letter for payment {payment_id}")


def test_a_dead_letter_shows_its_correlation_and_a_replay_asks_first_and_comes_back_live(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    letter = dead_letter_of_a_new_purchase(web_stack, web_admin)
    try:
        replay_and_follow(page, web_stack, web_admin, letter)
    finally:  # the other screens' tests (the status verdict) expect an empty DLQ
        httpx.delete(
            f"{web_stack.gateway_url}/admin/dlq/{letter['id']}",
            headers=fresh_auth(web_stack, web_admin),
            timeout=10,
        )


def replay_and_follow(page: Any, web_stack: Stack, web_admin: Account, letter: Any) -> None:
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/dlq")
    row = page.locator("main tbody tr", has_text=letter["id"])
    row.wait_for()
    corr = letter["correlation_id"]
    assert corr and row.get_by_role("link", name=corr).count() == 1
    assert "transient: the PSP answered HTTP 500" in row.inner_text()

    row.get_by_role("button", name="Reprocessar").click()
    dialog = page.get_by_role("dialog", name="Reprocessar a mensagem?")
    dialog.wait_for()
    assert letter["id"] in dialog.inner_text()
    assert dialog.get_by_role("button", name="Cancelar").evaluate(
        "el => el === document.activeElement"
    )
    screenshot(page, "admin-dlq-confirm")
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert row.get_by_role("button", name="Reprocessar").evaluate(
        "el => el === document.activeElement"
    )  # the focus is back where it was, and nothing was sent
    assert page.locator("main tbody tr", has_text=letter["id"]).count() == 1

    row.get_by_role("button", name="Reprocessar").click()
    dialog.get_by_role("button", name="Reprocessar").click()
    page.get_by_text("Mensagem devolvida à fila.").wait_for()
    # the card fails again: the letter is back, drawn by the screen itself (no navigation)
    page.wait_for_function(
        "id => [...document.querySelectorAll('main tbody tr')].some(r =>"
        " r.textContent.includes(id) && r.textContent.includes('transient'))",
        arg=letter["id"],
        timeout=WAIT_S * 1000,
    )
    page.locator("main tbody tr", has_text=letter["id"]).get_by_role(
        "link", name=letter["correlation_id"]
    ).click()
    wait_view(page, "/admin/eventos")
    assert set(column(page, 5)) == {letter["correlation_id"]}
    assert "PaymentDeadLettered" in column(page, 3)


def test_discarding_a_dead_letter_asks_first(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    letter = dead_letter_of_a_new_purchase(web_stack, web_admin)
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/dlq")
    row = page.locator("main tbody tr", has_text=letter["id"])
    row.get_by_role("button", name="Descartar").click()
    dialog = page.get_by_role("dialog", name="Descartar a mensagem?")
    dialog.get_by_role("button", name="Cancelar").click()
    dialog.wait_for(state="detached")
    assert row.count() == 1

    row.get_by_role("button", name="Descartar").click()
    dialog.get_by_role("button", name="Descartar").click()
    page.get_by_text("Mensagem descartada.").wait_for()
    row.wait_for(state="detached")
    listed = httpx.get(
        f"{web_stack.gateway_url}/admin/dlq", headers=fresh_auth(web_stack, web_admin)
    ).json()["items"]
    assert letter["id"] not in [item["id"] for item in listed]


def test_the_catalog_is_narrowed_by_title_as_the_admin_types(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    title = unique_title("Agulha no Palheiro")
    create_game(web_stack, web_admin, title)
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/jogos")
    box = page.get_by_label("Buscar por título")
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/jogos?" in r.url else None)

    box.press_sequentially(title.split()[-1].upper(), delay=30)  # the unique part, any case
    rows = page.locator("#lista-jogos tbody tr")
    page.wait_for_function(
        "t => { const r = document.querySelectorAll('#lista-jogos tbody tr');"
        " return r.length === 1 && r[0].textContent.includes(t); }",
        arg=title,
    )
    assert rows.count() == 1 and title in rows.first.inner_text()
    assert len(calls) <= 3, calls  # debounced: not one request per key
    assert box.evaluate("el => el === document.activeElement")  # typing never lost the box
    assert "com “" in page.locator("#total-jogos").inner_text()
    assert "titulo=" in page.evaluate("() => location.hash")

    box.fill("zzz-nenhum-jogo-assim")
    page.get_by_text("Nenhum jogo com “zzz-nenhum-jogo-assim” no título.").wait_for()
    assert rows.count() == 0
    screenshot(page, "admin-games-search")
