"""The gateway's own duties, on a stack of its own: rate limits, upstream timeouts, CORS,
security headers, the merged OpenAPI document and the docs.

The stack here has tight token buckets, a CORS allow-list, a short upstream timeout and a
``games`` upstream that accepts connections but never answers.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.api import assert_problem, new_account
from tests.e2e.stack import Stack, running_stack

ALLOWED_ORIGIN = "https://shop.example.com"
USER_BURST = 4


@pytest.fixture(scope="module")
def silent_upstream() -> Iterator[str]:
    """A listening socket nobody ever answers on: connections succeed, replies never come."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, silent_upstream: str) -> Iterator[Stack]:
    extra = {
        "GAMESTORE_GATEWAY_CLIENT_RATE": "2",
        "GAMESTORE_GATEWAY_CLIENT_BURST": "80",
        "GAMESTORE_GATEWAY_USER_RATE": "0.1",
        "GAMESTORE_GATEWAY_USER_BURST": str(USER_BURST),
        "GAMESTORE_GATEWAY_CORS_ORIGINS": json.dumps([ALLOWED_ORIGIN]),
        "GAMESTORE_GATEWAY_UPSTREAM_TIMEOUT": "0.5",
        "GAMESTORE_GAMES_URL": silent_upstream,
    }
    with running_stack(tmp_path_factory.mktemp("edge-stack"), extra) as running:
        yield running


async def test_an_upstream_that_does_not_answer_is_504(client: httpx.AsyncClient) -> None:
    response = await client.get("/jogos")
    assert_problem(response, 504)
    assert response.headers.get("x-request-id")


async def test_an_upstream_that_is_down_is_503(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/psp", json={})  # public route; payments not running
    assert_problem(response, 503)


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/healthz"), await client.get("/nope")):
        assert response.headers.get("x-content-type-options") == "nosniff"
        assert response.headers.get("x-frame-options", "").upper() == "DENY" or (
            "frame-ancestors" in response.headers.get("content-security-policy", "")
        )


async def test_cors_allows_the_listed_origin_only(client: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = await client.options("/login/auth", headers={"Origin": ALLOWED_ORIGIN, **preflight})
    assert allowed.status_code in (200, 204), allowed.text
    assert allowed.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN
    other = "https://evil.example.com"
    refused = await client.options("/login/auth", headers={"Origin": other, **preflight})
    assert refused.headers.get("access-control-allow-origin") not in (other, "*")
    simple = await client.get("/.well-known/jwks.json", headers={"Origin": other})
    assert simple.headers.get("access-control-allow-origin") not in (other, "*")


async def test_one_openapi_document_and_the_docs(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    paths = response.json()["paths"]
    for path in ("/users", "/users/me", "/users/{id}", "/login/auth", "/login/refresh"):
        assert any(p.replace("{user_id}", "{id}") == path for p in paths), (path, list(paths))
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]


async def test_a_user_over_their_budget_gets_429_and_others_do_not(
    client: httpx.AsyncClient,
) -> None:
    greedy, patient = await new_account(client), await new_account(client)
    statuses = [
        (await client.get("/users/me", headers=greedy.auth)).status_code
        for _ in range(USER_BURST + 2)
    ]
    assert 429 in statuses, statuses
    assert statuses.index(429) >= USER_BURST - 1, statuses  # the burst was honoured
    limited = await client.get("/users/me", headers=greedy.auth)
    assert_problem(limited, 429)
    assert limited.headers.get("retry-after", "").isdigit(), limited.headers
    assert (await client.get("/users/me", headers=patient.auth)).status_code == 200


async def test_a_client_over_its_budget_gets_429(client: httpx.AsyncClient) -> None:
    # Runs last in this module: it spends the whole client bucket.
    for _ in range(300):
        response = await client.get("/.well-known/jwks.json")
        if response.status_code == 429:
            break
        assert response.status_code == 200, response.text
    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers.get("x-request-id")
