"""The users service answers in the caller's language: pt-BR unless ``Accept-Language`` asks
for English, with the same ``code`` either way."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.users.support import PASSWORD, UsersApi, new_email

EN = {"Accept-Language": "en-US,en;q=0.9"}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def _fields(problem: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {e["loc"][-1]: (e["code"], e["msg"]) for e in problem["errors"]}


async def test_a_weak_password_and_a_bad_email_in_portuguese_by_default(api: UsersApi) -> None:
    body = {"name": "Ana", "email": "ana-at-example", "password": "abcdefgh"}
    for headers in ({}, {"Accept-Language": "de-DE"}, {"Accept-Language": "pt-BR"}):
        problem = _problem(await api.client.post("/users", json=body, headers=headers), 422)
        assert problem["code"] == "invalid_request"
        assert problem["detail"] == "A requisição não é válida."
        fields = _fields(problem)
        assert fields["email"] == ("email_invalid", "Informe um endereço de e-mail válido.")
        assert fields["password"][0] == "password_too_weak"
        assert fields["password"][1].startswith("A senha deve ter de 8 a 128 caracteres")


async def test_the_same_codes_in_english_on_request(api: UsersApi) -> None:
    body = {"name": "Ana", "email": "ana-at-example", "password": "abcdefgh", "extra": 1}
    problem = _problem(await api.client.post("/users", json=body, headers=EN), 422)
    assert (problem["code"], problem["detail"]) == ("invalid_request", "The request is not valid.")
    assert _fields(problem) == {
        "email": ("email_invalid", "Must be a valid email address."),
        "password": (
            "password_too_weak",
            "The password must have 8 to 128 characters, with a letter, a digit and a special "
            "character.",
        ),
        "extra": ("extra_forbidden", "This field is not accepted here."),
    }


async def test_an_email_taken_is_a_conflict_about_the_email_field(api: UsersApi) -> None:
    email = new_email("taken")
    await api.register(email)
    body = {"name": "Ana", "email": email, "password": PASSWORD}

    pt = _problem(await api.client.post("/users", json=body), 409)
    en = _problem(await api.client.post("/users", json=body, headers=EN), 409)

    assert pt["code"] == en["code"] == "email_taken"
    assert pt["detail"] == "Já existe uma conta com este e-mail."
    assert en["detail"] == "An account with this email already exists."
    assert _fields(pt) == {"email": ("email_taken", "Já existe uma conta com este e-mail.")}
    assert pt["errors"][0]["loc"] == ["body", "email"]


async def test_platform_problems_follow_the_language_too(api: UsersApi) -> None:
    missing = _problem(await api.client.get("/users/me"), 401)
    assert (missing["code"], missing["detail"]) == (
        "token_required",
        "É preciso um token de acesso válido.",
    )
    assert missing["title"] == "Unauthorized"  # the status phrase stays as HTTP has it
    bad = _problem(await api.client.get("/users/me", headers={"Authorization": "Bearer x"}), 401)
    assert bad["code"] == "token_invalid"
    nowhere = _problem(await api.client.get("/nowhere", headers=EN), 404)
    assert (nowhere["code"], nowhere["detail"]) == ("not_found", "There is nothing at this path.")
    wrong = _problem(await api.client.delete("/users"), 405)
    assert (wrong["code"], wrong["detail"]) == (
        "method_not_allowed",
        "Este caminho não aceita esse método.",
    )
    login = _problem(
        await api.client.post("/login/auth", json={"email": new_email(), "password": PASSWORD}),
        401,
    )
    assert (login["code"], login["detail"]) == (
        "invalid_credentials",
        "O e-mail ou a senha está incorreto.",
    )


async def test_a_body_too_large_is_refused_in_the_callers_language(api: UsersApi) -> None:
    big = b"x" * (2 * 1024 * 1024)
    pt = _problem(await api.client.post("/users", content=big), 413)
    en = _problem(await api.client.post("/users", content=big, headers=EN), 413)
    assert pt["code"] == en["code"] == "body_too_large"
    assert pt["detail"] == "O corpo da requisição tem mais de 1048576 bytes."
    assert en["detail"] == "The request body is larger than 1048576 bytes."


async def test_malformed_json_has_a_code_and_a_translated_message(api: UsersApi) -> None:
    headers = {"Content-Type": "application/json"}
    problem = _problem(await api.client.post("/users", content=b"{", headers=headers), 422)
    assert [(e["code"], e["msg"]) for e in problem["errors"]] == [
        ("json_invalid", "O corpo não é um JSON válido.")
    ]


async def test_a_problem_says_its_language_and_that_it_varies_by_the_asked_one(
    api: UsersApi,
) -> None:
    body = {"name": "Ana", "email": "ana-at-example", "password": "abcdefgh"}
    for headers, language in (({}, "pt-BR"), (EN, "en")):
        response = await api.client.post("/users", json=body, headers=headers)
        _problem(response, 422)
        assert response.headers["content-language"] == language
        assert "accept-language" in response.headers["vary"].lower()
