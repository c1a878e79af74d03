"""Through the gateway to the real services: every problem in pt-BR unless the client asks for
English, with the same ``code`` either way."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.api import PASSWORD, assert_problem, register, unique_email

EN = {"Accept-Language": "en-US,en;q=0.9"}


async def test_a_services_validation_errors_in_both_languages(client: httpx.AsyncClient) -> None:
    body = {"name": "Ana", "email": "ana@", "password": "abcdefgh"}
    pt = assert_problem(await client.post("/users", json=body), 422)
    en = assert_problem(await client.post("/users", json=body, headers=EN), 422)

    def codes(problem: dict[str, object]) -> list[tuple[str, str]]:
        errors = problem["errors"]
        assert isinstance(errors, list)
        return sorted((e["loc"][-1], e["code"]) for e in errors)

    expected = [("email", "email_invalid"), ("password", "password_too_weak")]
    assert codes(pt) == codes(en) == expected
    assert pt["detail"] == "A requisição não é válida."
    assert en["detail"] == "The request is not valid."
    messages = {e["msg"] for e in pt["errors"]} | {e["msg"] for e in en["errors"]}
    assert "Informe um endereço de e-mail válido." in messages
    assert "Must be a valid email address." in messages


async def test_a_services_domain_problem_in_both_languages(client: httpx.AsyncClient) -> None:
    email = unique_email("lang")
    await register(client, email=email)
    body = {"name": "Ana", "email": email, "password": PASSWORD}
    pt = assert_problem(await client.post("/users", json=body), 409)
    en = assert_problem(await client.post("/users", json=body, headers=EN), 409)
    assert pt["code"] == en["code"] == "email_taken"
    assert (pt["detail"], en["detail"]) == (
        "Já existe uma conta com este e-mail.",
        "An account with this email already exists.",
    )
    game = f"/jogos/{uuid.uuid4()}"
    missing = assert_problem(await client.get(game, headers={"Accept-Language": "pt-BR"}), 404)
    missing_en = assert_problem(await client.get(game, headers=EN), 404)
    assert missing["code"] == missing_en["code"] == "game_not_found"
    assert (missing["detail"], missing_en["detail"]) == ("Jogo não encontrado.", "No such game.")
