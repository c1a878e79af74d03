"""The rules the OpenAPI document publishes are the rules the services apply: for every text a
fuzzer might send, a JSON Schema validator (the ECMA-262 dialect clients use) and our own
validation agree — neither accepts what the other refuses."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel, ValidationError

from gamestore.games.schemas import GameIn
from gamestore.users.schemas import UserCreate

ALPHABET = list(
    "aZ09 @.-_!é\t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u2029\u202e\u2066\u3000\u1680\u2000"
    '\ufeff\uff45😀\x00\x7f\x9f"\\[]()ß'
)
GAME = {
    "title": "t", "description": "", "genres": ["g"], "platforms": ["p"], "price_cents": 1,
    "release_date": "2000-01-01", "developer": "d", "publisher": "p", "tags": [],
}  # fmt: skip
USER = {"name": "Ada", "email": "ada@example.com", "password": "S3cret!pass"}


def texts(seed: int, count: int = 4000) -> list[str]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14)))
        if rng.random() < 0.5:  # shaped like an email, so the interesting part gets reached
            text = text[:5] + "@" + text[5:9] + rng.choice(["", ".", ".co", ".ｅé"]) + text[9:]
        made.append(text)
    return made


def accepted(model: type[BaseModel], body: dict[str, Any]) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


CASES: list[tuple[type[BaseModel], dict[str, Any], str, Callable[[str], Any]]] = [
    (UserCreate, USER, "name", lambda t: t),
    (UserCreate, USER, "email", lambda t: t),
    (UserCreate, USER, "password", lambda t: t * 2),
    (GameIn, GAME, "title", lambda t: t),
    (GameIn, GAME, "description", lambda t: t),
    (GameIn, GAME, "genres", lambda t: [t]),
]


@pytest.mark.parametrize(("model", "valid", "field", "shape"), CASES)
def test_the_document_and_the_service_agree(
    model: type[BaseModel], valid: dict[str, Any], field: str, shape: Callable[[str], Any]
) -> None:
    schema = model.model_json_schema()
    validator = jsonschema_rs.validator_for(schema)
    disagreements = []
    for text in texts(hash(field) % 1000):
        body = valid | {field: shape(text)}
        if validator.is_valid(body) != accepted(model, body):
            disagreements.append(text)
    assert disagreements == [], disagreements[:5]
