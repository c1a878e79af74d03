"""Bad input never yields a 500: malformed JSON, wrong types, unicode, huge bodies."""

from __future__ import annotations

import itertools
import json

from tests.integration.users.support import PASSWORD, UsersApi

BAD_BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"just a string"',
    b"\xff\xfe\x00garbage",
    b'{"name": {"nested": true}, "email": [], "password": 12345678}',
    json.dumps({"name": "\ud800", "email": "a@b.co", "password": PASSWORD}).encode(),
    json.dumps({"name": "名前🎮", "email": "ü@exämple.com", "password": "pässwörd1!"}).encode(),
    json.dumps({"name": "A", "email": "a" * 100_000 + "@b.co", "password": PASSWORD}).encode(),
    json.dumps({"name": "A", "email": "a@b.co", "password": "P4$" * 300_000}).encode(),
    json.dumps({"email": "a@b.co", "password": PASSWORD, "refresh_token": "x" * 900_000}).encode(),
    b'{"name": 1e999999, "email": "a@b.co", "password": "' + b"\\u0000" * 10 + b'"}',
    b"[" * 100_000 + b"]" * 100_000,  # too deep to parse: 400
    json.dumps({"name": "A", "email": "a@b.co", "password": "ab\ud800cd1!xy"}).encode(),
    json.dumps({"name": "A", "email": "a\ud800@b.co", "password": PASSWORD}).encode(),
    json.dumps({"email": "a@b.co", "password": PASSWORD, "refresh_token": "\udfff"}).encode(),
]
ENDPOINTS = [
    ("POST", "/users"),
    ("POST", "/login/auth"),
    ("POST", "/login/refresh"),
    ("POST", "/login/logout"),
    ("PUT", "/users/me-id"),
]


async def test_no_bad_body_gives_a_500(api: UsersApi) -> None:
    player = await api.player()

    for (method, path), body in itertools.product(ENDPOINTS, BAD_BODIES):
        path = path.replace("me-id", player.id)
        response = await api.client.request(
            method,
            path,
            content=body,
            headers={**player.headers, "Content-Type": "application/json"},
        )
        assert response.status_code < 500, (body[:60], response.text)
        # 403: a new password without the current one
        assert response.status_code in (200, 201, 204, 400, 401, 403, 409, 413, 422), (
            body[:60],
            response.text,
        )
        assert response.headers["content-type"].startswith(("application/", "text/")) or (
            response.status_code == 204
        )


async def test_a_ten_megabyte_body_is_413(api: UsersApi) -> None:
    body = b'{"name": "' + b"x" * 10 * 1024 * 1024 + b'"}'

    response = await api.client.post("/users", content=body)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_bad_tokens_are_401_not_500(api: UsersApi) -> None:
    for token in [
        "Bearer " + "a" * 100_000,
        "Bearer a.b.c",
        "Bearer \u00e9\u00e9",
        "Bearer",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ]:
        response = await api.client.get(
            "/users/me", headers=[(b"authorization", token.encode("utf-8"))]
        )
        assert response.status_code == 401, token[:40]


async def test_unicode_names_and_emails_round_trip(api: UsersApi) -> None:
    response = await api.client.post(
        "/users", json={"name": "Zoë 名前 🎮", "email": "zoë@exämple.com", "password": "pässwörd1!"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Zoë 名前 🎮"
    assert (await api.login("ZOË@EXÄMPLE.COM", "pässwörd1!")).status_code == 200
