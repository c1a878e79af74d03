"""The merged document lists, on every operation, the problems the gateway itself may answer
for it, each as problem+json with the one shared ``Problem`` schema — with no I/O."""

from __future__ import annotations

from typing import Any

import pytest

from gamestore.gateway.openapi import merge
from gamestore.gateway.routes import TABLE

PROBLEM = {"$ref": "#/components/schemas/Problem"}
OPERATION = {"responses": {"200": {"description": "OK"}}}
WITH_BODY = {**OPERATION, "requestBody": {"content": {"application/json": {"schema": {}}}}}
GAMES = {
    "openapi": "3.1.0",
    "info": {"title": "games", "version": "1"},
    "paths": {
        "/jogos": {"get": OPERATION, "post": WITH_BODY},
        "/biblioteca": {"get": OPERATION},
    },
    "components": {"schemas": {"Problem": {"type": "object"}}},
}


def _responses(path: str, method: str) -> dict[str, Any]:
    document = merge(TABLE, {"games": GAMES}, [])
    responses: dict[str, Any] = document["paths"][path][method]["responses"]
    return responses


@pytest.mark.parametrize(
    ("path", "method", "expected", "absent"),
    [
        ("/jogos", "get", {414, 431, 429, 502, 503, 504}, {401, 403, 413}),  # anyone
        ("/biblioteca", "get", {401, 414, 431, 429, 502, 503, 504}, {403, 413}),  # a user
        ("/jogos", "post", {401, 403, 413, 414, 431, 429, 502, 503, 504}, set()),  # an admin
    ],
)
def test_each_operation_lists_the_gateways_own_problems(
    path: str, method: str, expected: set[int], absent: set[int]
) -> None:
    responses = _responses(path, method)
    for status in expected:
        content = responses[str(status)]["content"]
        assert content == {"application/problem+json": {"schema": PROBLEM}}, status
        assert responses[str(status)]["description"]
    assert not {str(status) for status in absent} & set(responses)
    assert responses["200"] == {"description": "OK"}  # the service's own, untouched


def test_the_limits_are_stated_and_one_problem_schema_is_shared() -> None:
    responses = _responses("/jogos", "get")
    assert "16384 bytes" in responses["414"]["description"]
    assert "32768 bytes" in responses["431"]["description"]
    assert "Retry-After" in responses["429"]["headers"]
    schemas = merge(TABLE, {"games": GAMES}, [])["components"]["schemas"]
    assert "Problem" in schemas and "games.Problem" not in schemas
