"""pydantic's errors as ``{loc, code, msg}``: our own codes from our validators, every message
translated with pydantic's limits as placeholders, never pydantic's English text."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from gamestore.games.schemas import GameIn
from gamestore.platform.field_errors import FALLBACK, field_errors, message
from gamestore.platform.i18n import use_language
from gamestore.users.schemas import UserCreate


def _errors(model: type[BaseModel], body: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return field_errors(caught.value.errors())


def _by_field(errors: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {e["loc"][-1]: (e["code"], e["msg"]) for e in errors}


def test_an_unknown_code_or_a_missing_placeholder_gets_the_general_message() -> None:
    assert message("some_new_pydantic_type") == "Este valor não é válido."
    assert message("string_too_short", {}) == "Este valor não é válido."  # no min_length
    with use_language("en"):
        assert message("value_error", {"error": "raw text"}) == FALLBACK


def test_our_validators_give_our_own_codes_in_portuguese_by_default() -> None:
    errors = _by_field(
        _errors(UserCreate, {"name": "Ana", "email": "not-an-email", "password": "abcdefgh"})
    )
    assert errors == {
        "email": ("email_invalid", "Informe um endereço de e-mail válido."),
        "password": (
            "password_too_weak",
            "A senha deve ter de 8 a 128 caracteres, com uma letra, um número e um caractere "
            "especial.",
        ),
    }


def test_the_same_codes_in_english_on_request() -> None:
    with use_language("en"):
        errors = _by_field(_errors(UserCreate, {"email": "a@b.co", "password": "short"}))
    assert errors == {
        "name": ("missing", "This field is required."),
        "password": (
            "password_too_weak",
            "The password must have 8 to 128 characters, with a letter, a digit and a special "
            "character.",
        ),
    }


def test_pydantic_limits_fill_the_placeholders_written_the_languages_way() -> None:
    class Sample(BaseModel):
        label: str = Field(max_length=3)
        count: int = Field(le=1_000_000)
        tags: list[str] = Field(min_length=2)

    body = {"label": "abcd", "count": 2_000_000, "tags": ["x"]}
    assert _by_field(_errors(Sample, body)) == {
        "label": ("string_too_long", "Deve ter no máximo 3 caracteres."),
        "count": ("less_than_equal", "Deve ser no máximo 1.000.000."),
        "tags": ("too_short", "Deve ter pelo menos 2 itens."),
    }
    with use_language("en"):
        assert _by_field(_errors(Sample, body))["count"] == (
            "less_than_equal",
            "Must be at most 1,000,000.",
        )


def test_game_dates_have_codes_of_their_own() -> None:
    body = {"release_date": "2200-01-01", "price_cents": "79,90"}
    errors = _by_field(_errors(GameIn, body))
    assert errors["release_date"] == (
        "date_out_of_range",
        "Deve estar entre 1950-01-01 e 2100-12-31.",
    )
    assert errors["price_cents"] == ("int_type", "Deve ser um número inteiro.")
    assert _by_field(_errors(GameIn, {"release_date": "5 de maio"}))["release_date"] == (
        "date_invalid",
        "Deve ser uma data no formato AAAA-MM-DD.",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "email": "a@b.co\n", "password": "x" * 500},
        {"name": 1, "email": [], "password": None, "role": "admin"},
        {"name": "\x00", "email": "@", "password": "12345678"},
    ],
)
def test_no_raw_pydantic_text_reaches_a_client(body: dict[str, Any]) -> None:
    for language in ("pt_BR", "en"):
        with use_language(language):
            errors = _errors(UserCreate, body)
        for error in errors:
            assert error.keys() == {"loc", "code", "msg"}
            assert not error["msg"].startswith(("Value error", "Input should", "String should"))
            assert "pattern" not in error["msg"] or "API" in error["msg"], error


def test_a_limit_of_one_and_a_blank_text_read_plainly() -> None:
    class Sample(BaseModel):
        name: str = Field(min_length=1)
        tags: list[str] = Field(min_length=1)
        title: str = Field(pattern=r"^\S.*$")

    errors = _by_field(_errors(Sample, {"name": "", "tags": [], "title": "   "}))
    assert errors == {
        "name": ("string_too_short", "Não pode ficar vazio."),
        "tags": ("too_short", "Deve ter pelo menos um item."),
        "title": ("string_pattern_mismatch", "Não pode ficar vazio."),
    }
