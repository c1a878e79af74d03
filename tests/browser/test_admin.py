"""An admin in the browser: games created and edited with the API's own validation messages,
found by players; hostile titles shown as text; the admin pages closed to players."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import (
    Watch,
    open_app,
    register,
    screenshot,
    search,
    sign_in,
    unique_title,
    wait_searchable,
    wait_view,
)
from tests.e2e.api import Account, bearer
from tests.e2e.stack import Stack

XSS = "<img src=x onerror=alert(1)>"


def fill_game(page: Any, title: str, price: str = "59,90") -> None:
    page.get_by_label("Título").fill(title)
    page.get_by_label("Descrição").fill("Um jogo criado pelo navegador.")
    page.get_by_label("Gêneros").fill("Puzzle, Indie")
    page.get_by_label("Plataformas").fill("PC")
    page.get_by_label("Preço (R$)").fill(price)
    page.get_by_label("Data de lançamento").fill("2024-05-17")
    page.get_by_label("Desenvolvedora").fill("Estúdio Teste")
    page.get_by_label("Editora").fill("Editora Teste")


def test_an_admin_creates_a_game_and_a_player_finds_it_by_search(
    page: Any, context: Any, web_stack: Stack, web_admin: Account
) -> None:
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    page.get_by_role("link", name="Admin: jogos").click()
    wait_view(page, "/admin/jogos")
    page.get_by_role("link", name="Novo jogo").click()
    wait_view(page, "/admin/jogos/novo")

    title = unique_title("Labirinto Quantico")
    fill_game(page, "   ", price="-5")
    page.get_by_role("button", name="Criar jogo").click()
    title_error = page.locator("#title-erro")
    title_error.wait_for()
    assert title_error.inner_text() == "Não pode ficar vazio."  # the API's own message, pt-BR
    assert page.get_by_label("Título").get_attribute("aria-invalid") == "true"
    assert page.locator("#price_cents-erro").inner_text() != ""

    fill_game(page, title)
    page.get_by_role("button", name="Criar jogo").click()
    wait_view(page, "/admin/jogos")
    page.get_by_text("foi salvo").wait_for()
    screenshot(page, "admin-games")

    wait_searchable(web_stack, 1, query=title)
    player = context.browser.new_context().new_page()
    open_app(player, web_stack)
    search(player, "labirinto quantco")
    assert title in player.locator("#resultados").inner_text()
    player.context.close()


def test_a_duplicate_title_and_a_stale_edit_are_explained(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    game = create_game(web_stack, web_admin, unique_title("Duplicado"))
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/jogos/novo")
    fill_game(page, game["title"].upper())
    page.get_by_role("button", name="Criar jogo").click()
    page.locator("#title-erro").wait_for()
    assert page.locator("#title-erro").inner_text() != ""

    open_app(page, web_stack, f"#/admin/jogos/{game['id']}")
    changed = {**game_body(game["title"] + " 2")}
    url = f"{web_stack.gateway_url}/jogos/{game['id']}"
    assert httpx.put(url, json=changed, headers=fresh_auth(web_stack, web_admin)).status_code == 200
    page.get_by_label("Preço (R$)").fill("10,00")
    page.get_by_role("button", name="Salvar alterações").click()
    page.locator(".form-message [role=alert]").wait_for()
    # the message, not the request id under it (a random UUID may hold "412")
    message = page.locator(".form-message [role=alert] p").first.inner_text()
    assert "412" not in message
    assert message != ""


def test_a_hostile_title_is_shown_as_text_everywhere(
    page: Any, web_stack: Stack, web_admin: Account, watch: Watch
) -> None:
    title = unique_title(XSS)
    game = create_game(web_stack, web_admin, title)
    wait_searchable(web_stack, 1, query=title.split()[-1])
    open_app(page, web_stack)
    search(page, title.split()[-1])
    card = page.locator("#resultados li").first
    assert card.locator(".card-title").inner_text() == title
    card.get_by_role("link").click()
    wait_view(page, f"/jogos/{game['id']}")
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.locator("main img:not(.cover-img)").count() == 0  # the cover is the only image
    assert page.get_by_role("img", name=f"Capa de {title}").count() == 1  # the title as alt text
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/jogos")
    page.wait_for_timeout(200)
    assert watch.dialogs == [], "a dialog fired: the title ran as markup"
    assert page.locator("main img").count() == 0


def test_admin_pages_are_closed_to_players(page: Any, web_stack: Stack) -> None:
    register(page, web_stack)
    assert page.get_by_role("link", name="Admin: jogos").count() == 0
    open_app(page, web_stack, "#/admin/eventos")
    assert page.get_by_role("heading", name="Acesso negado").is_visible()


def game_body(title: str) -> dict[str, Any]:
    return {
        "title": title, "description": "Criado pela API.", "genres": ["Puzzle"],
        "platforms": ["PC"], "price_cents": 1990, "release_date": "2023-01-02",
        "developer": "Dev", "publisher": "Pub", "tags": [],
    }  # fmt: skip


def create_game(stack: Stack, admin: Account, title: str) -> dict[str, Any]:
    """A game created straight through the API (asserts 201)."""
    url = f"{stack.gateway_url}/jogos"
    response = httpx.post(url, json=game_body(title), headers=fresh_auth(stack, admin))
    assert response.status_code == 201, response.text
    game: dict[str, Any] = response.json()
    return game


def fresh_auth(stack: Stack, account: Account) -> dict[str, str]:
    """A bearer header with a new access token (they live 2 seconds in this stack)."""
    body = {"email": account.email, "password": account.password}
    response = httpx.post(f"{stack.gateway_url}/login/auth", json=body)
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def test_an_admin_deletes_a_game_and_search_forgets_it(
    page: Any, web_stack: Stack, web_admin: Account
) -> None:
    title = unique_title("Descartavel")
    game = create_game(web_stack, web_admin, title)
    wait_searchable(web_stack, 1, query=title)
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/jogos?pagina=1")
    for _ in range(10):  # the game is on some page of the title-ordered catalog
        if page.get_by_role("button", name=f"Excluir {title}").count():
            break
        page.get_by_role("link", name="Próxima →").click()
        page.wait_for_timeout(100)
        wait_view(page, "/admin/jogos")
    page.get_by_role("button", name=f"Excluir {title}").click()
    confirm = page.get_by_role("button", name=f"Confirmar exclusão de {title}")
    assert confirm.evaluate("el => el === document.activeElement")
    confirm.click()
    page.get_by_text(f"“{title}” foi excluído do catálogo.").wait_for()
    gone = httpx.get(f"{web_stack.gateway_url}/jogos/{game['id']}")
    assert gone.status_code == 404


def test_pages_fit_a_phone_screen(browser: Any, web_stack: Stack, watch: Watch) -> None:
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = phone.new_page()
    watch.attach(page)
    try:
        for path in ("#/jogos", "#/cadastro", f"#/jogos/{some_game(web_stack)}"):
            open_app(page, web_stack, path)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        screenshot(page, "phone-game")
    finally:
        phone.close()
    assert not watch.errors, watch.errors


def some_game(stack: Stack) -> str:
    found = httpx.get(f"{stack.gateway_url}/jogos/busca", params={"q": "witcher"}).json()
    return str(found["items"][0]["id"])
