"""The web app in Portuguese end to end: the API's field messages (pt-BR, asked for by the app)
under the fields they are about, and prices typed as people type them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import Watch, open_app, sign_in, unique_title, wait_view
from tests.e2e.api import PASSWORD, Account, bearer, unique_email
from tests.e2e.stack import Stack


def _sign_up(page: Any, email: str, password: str) -> int:
    """Fills the sign-up form and sends it; the status of the API's answer."""
    page.get_by_label("Nome").fill("Bia Jogadora")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    sent = lambda r: r.request.method == "POST" and r.url.endswith("/users")  # noqa: E731
    with page.expect_response(sent) as answer:
        page.get_by_role("button", name="Criar conta").click()
    page.wait_for_function("() => !document.querySelector('form [aria-busy=true]')")
    return int(answer.value.status)


def test_sign_up_mistakes_are_explained_in_portuguese_under_their_fields(
    page: Any, web_stack: Stack
) -> None:
    taken = unique_email("taken")
    created = httpx.post(
        f"{web_stack.gateway_url}/users",
        json={"name": "Primeira", "email": taken, "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    open_app(page, web_stack, "#/cadastro")
    email, password = page.locator("#email-erro"), page.locator("#password-erro")

    assert _sign_up(page, "bia-sem-arroba", "abcdefgh") == 422  # bad email, weak password
    assert password.inner_text().startswith("A senha deve ter de 8 a 128 caracteres, com uma")
    assert password.get_attribute("data-code") == "password_too_weak"
    assert email.inner_text() == "Informe um endereço de e-mail válido."
    assert page.get_by_label("Senha").get_attribute("aria-invalid") == "true"
    assert page.locator("#name-erro").inner_text() == ""

    assert _sign_up(page, taken.upper(), "abcdefgh") == 422  # the email is fine as an address
    assert (email.inner_text(), password.get_attribute("data-code")) == ("", "password_too_weak")

    assert _sign_up(page, taken.upper(), PASSWORD) == 409  # only the existing email is left
    assert email.inner_text() == "Já existe uma conta com este e-mail."
    assert email.get_attribute("data-code") == "email_taken"
    assert password.inner_text() == ""
    assert page.get_by_role("button", name="Sair").count() == 0
    text = page.locator("main").inner_text()
    assert "Value error" not in text and "already exists" not in text


def _new_game_form(page: Any, title: str, price: str) -> None:
    page.get_by_label("Título").fill(title)
    page.get_by_label("Descrição").fill("Preço digitado como as pessoas digitam.")
    page.get_by_label("Gêneros").fill("Puzzle")
    page.get_by_label("Plataformas").fill("PC")
    page.get_by_label("Preço (R$)").fill(price)
    page.get_by_label("Data de lançamento").fill("2024-05-17")
    page.get_by_label("Desenvolvedora").fill("Estúdio Teste")
    page.get_by_label("Editora").fill("Editora Teste")


def _price_of(stack: Stack, admin: Account, title: str) -> int:
    token = httpx.post(
        f"{stack.gateway_url}/login/auth", json={"email": admin.email, "password": admin.password}
    ).json()["access_token"]
    listed = httpx.get(f"{stack.gateway_url}/jogos?size=100", headers=bearer(token)).json()
    [game] = [g for g in listed["items"] if g["title"] == title]
    return int(game["price_cents"])


def test_the_admin_game_form_reads_prices_as_people_type_them(
    page: Any, web_stack: Stack, web_admin: Account, watch: Watch
) -> None:
    sign_in(page, web_stack, web_admin.email, web_admin.password)
    open_app(page, web_stack, "#/admin/jogos/novo")
    parsed = page.evaluate(
        """async (typed) => {
          const src = document.querySelector('script[type=module]').src;
          const { parsePrice } = await import(src.replace(/main\\.js$/, 'admin_games.js'));
          return typed.map((t) => { const c = parsePrice(t); return Number.isNaN(c) ? 'NaN' : c; });
        }""",
        ["79,90", "79.90", "R$ 79,90", "1.234,56", "1,234.56", "", "-5", "79 reais", "7,999"],
    )
    assert parsed == [7990, 7990, 7990, 123456, 123456, None, -500, "NaN", "NaN"]

    _new_game_form(page, unique_title("Preço Ilegível"), "setenta reais")
    page.get_by_role("button", name="Criar jogo").click()
    page.locator("#price_cents-erro").get_by_text(
        "Informe o preço em reais, como 79,90."
    ).wait_for()
    assert watch.calls("POST", "/jogos") == 0  # refused in the page: nothing sent

    for typed, cents in (("R$ 79,90", 7990), ("59.90", 5990)):
        open_app(page, web_stack, "#/admin/jogos/novo")
        title = unique_title("Preço Digitado")
        _new_game_form(page, title, typed)
        page.get_by_role("button", name="Criar jogo").click()
        wait_view(page, "/admin/jogos")
        page.get_by_text("foi salvo").wait_for()
        assert _price_of(web_stack, web_admin, title) == cents
