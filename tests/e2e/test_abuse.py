"""Abuse and bad input: brute force, malformed bodies, huge bodies, request ids, secrets in logs."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest

from gamestore.platform.eventstore import RecordedEvent, connect
from tests.e2e.api import (
    PASSWORD,
    PROBLEM_JSON,
    Account,
    NoAnswer,
    RawResponse,
    assert_problem,
    assert_unauthorized,
    eventually,
    login,
    new_account,
    raw_upload,
    register,
    unique_email,
)
from tests.e2e.stack import Stack

MiB = 1024 * 1024
NEVER = 500  # no bad input may ever produce a 5xx


def assert_client_error(response: httpx.Response, *allowed: int) -> None:
    """A 4xx from ``allowed`` as problem+json, never a 5xx or a stack trace."""
    assert response.status_code < NEVER, f"{response.status_code} {response.text[:500]}"
    assert response.status_code in allowed, f"{response.status_code} {response.text[:500]}"
    assert_problem(response, response.status_code)


# --- brute force ---------------------------------------------------------------------------------


async def test_sixth_login_after_five_failures_is_429_even_with_the_right_password(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    for attempt in range(5):
        # Any case of the email counts against the same account.
        email = user["email"].upper() if attempt % 2 else user["email"]
        assert_unauthorized(await login(client, email, f"Wr0ng!{attempt}"))
    response = await login(client, user["email"], PASSWORD)
    assert_problem(response, 429)
    retry_after = response.headers.get("retry-after", "")
    assert retry_after.isdigit() and 0 < int(retry_after) <= 900, response.headers
    assert "access_token" not in response.text


async def test_throttling_one_email_leaves_the_others_alone(client: httpx.AsyncClient) -> None:
    victim, bystander = await register(client), await register(client)
    for attempt in range(6):
        await login(client, victim["email"], f"Wr0ng!{attempt}")
    assert (await login(client, bystander["email"], PASSWORD)).status_code == 200


async def test_unknown_emails_are_throttled_like_known_ones(client: httpx.AsyncClient) -> None:
    # Otherwise the 429 itself would tell which emails have accounts.
    email = unique_email("ghost")
    for attempt in range(5):
        assert_unauthorized(await login(client, email, f"Wr0ng!{attempt}"))
    response = await login(client, email, PASSWORD)
    assert_problem(response, 429)
    assert response.headers.get("retry-after", "").isdigit()


async def test_successful_logins_are_not_throttled(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for _ in range(8):
        assert (await login(client, user["email"], PASSWORD)).status_code == 200


# --- bad input never yields a 500 ----------------------------------------------------------------

MALFORMED = [
    b'{"name": "x", "email": ',
    b"{'name': 'single quotes'}",
    b'{"name": "x",}',
    b"\xff\xfe\x00garbage",
    b"null",
    b"[]",
    b'"just a string"',
    b"12345",
    b"",
    b'{"name": NaN, "email": Infinity, "password": -Infinity}',
    b'{"name": 1' + b"0" * 5000 + b', "email": "a@example.com", "password": "x"}',
]


@pytest.mark.parametrize("body", MALFORMED, ids=[f"malformed-{i}" for i in range(len(MALFORMED))])
@pytest.mark.parametrize("path", ["/users", "/login/auth", "/login/refresh", "/login/logout"])
async def test_malformed_json_is_a_client_error(
    client: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_client_error(response, 400, 422)


async def test_malformed_json_on_update_is_a_client_error(
    client: httpx.AsyncClient, player: Account
) -> None:
    for body in MALFORMED:
        response = await client.put(
            f"/users/{player.id}",
            content=body,
            headers={**player.auth, "Content-Type": "application/json"},
        )
        assert_client_error(response, 400, 422)


WRONG_TYPES: list[dict[str, Any]] = [
    {"name": 123, "email": "EMAIL", "password": PASSWORD},
    {"name": ["a"], "email": "EMAIL", "password": PASSWORD},
    {"name": {"first": "A"}, "email": "EMAIL", "password": PASSWORD},
    {"name": "A", "email": 42, "password": PASSWORD},
    {"name": "A", "email": ["EMAIL"], "password": PASSWORD},
    {"name": "A", "email": "EMAIL", "password": 12345678},
    {"name": "A", "email": "EMAIL", "password": True},
    {"name": "A", "email": "EMAIL", "password": None},
    {"name": None, "email": None, "password": None},
]


@pytest.mark.parametrize("body", WRONG_TYPES, ids=[f"types-{i}" for i in range(len(WRONG_TYPES))])
async def test_wrong_types_are_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    body = {k: unique_email() if v == "EMAIL" else v for k, v in body.items()}
    response = await client.post("/users", json=body)
    assert_client_error(response, 422)
    assert response.json().get("errors"), response.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/login/auth", {"email": 1, "password": 2}),
        ("/login/auth", {"email": ["a@example.com"], "password": {"x": 1}}),
        ("/login/refresh", {"refresh_token": 12345}),
        ("/login/refresh", {"refresh_token": ["a", "b"]}),
        ("/login/logout", {"refresh_token": {"a": 1}}),
    ],
)
async def test_wrong_types_on_login_routes_are_422(
    client: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    assert_client_error(await client.post(path, json=body), 422)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/users", "text/plain"), ("/login/auth", "application/x-www-form-urlencoded")],
)
async def test_a_body_that_is_not_json_is_a_client_error(
    client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await client.post(
        path, content=b"email=a%40example.com&password=x", headers={"Content-Type": content_type}
    )
    assert_client_error(response, 400, 415, 422)


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Ñandú",
        "李小龍",
        "Ωμέγα Λάμδα",
        "مرحبا بالعالم",
        "Þór Ægirsson 🎮🕹️",
        "\uff26\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48",  # full width,
    ],
)
async def test_unicode_names_are_accepted_and_echoed_intact(
    client: httpx.AsyncClient, name: str
) -> None:
    account = await new_account(client, name=name)
    assert account.name == name
    me = await client.get("/users/me", headers=account.auth)
    assert me.json()["name"] == name


async def test_a_unicode_password_works(client: httpx.AsyncClient) -> None:
    password = "Pässwörd-密码-1"
    account = await new_account(client, password=password)
    assert (await login(client, account.email, password)).status_code == 200
    assert_unauthorized(await login(client, account.email, "Passwörd-密码-1"))


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("where", ["gateway", "direct"])
async def test_a_10_mib_body_is_413(stack: Stack, where: str, chunked: bool) -> None:
    body = b'{"name": "' + b"x" * (10 * MiB) + b'"}'
    base = stack.gateway_url if where == "gateway" else stack.users_url
    response = await upload_until_answered(base, body, chunked=chunked)
    assert response.status == 413, response
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert b"413" in response.body, response.body  # the problem document's status
    assert response.headers.get("x-request-id")


async def upload_until_answered(base: str, body: bytes, *, chunked: bool) -> RawResponse:
    """The answer to an oversized upload. A streamed body is refused only once 1 MiB has
    arrived; the server then closes with the client still sending, and the TCP reset can
    destroy the answer before it is read (no lingering close). That transport race is retried
    (a few times at most); any answer that does arrive must be right."""
    for _ in range(4):
        try:
            return await raw_upload(base, "/users", body, chunked=chunked)
        except NoAnswer:
            if not chunked:
                raise
    raise AssertionError("four streamed uploads in a row got no answer at all")


async def test_a_body_just_under_the_limit_is_not_413(client: httpx.AsyncClient) -> None:
    body = b'{"name": "' + b"x" * (MiB - 100) + b'"}'
    response = await client.post(
        "/users", content=body, headers={"Content-Type": "application/json"}
    )
    assert_client_error(response, 422)


@pytest.mark.parametrize(
    "field",
    ["name", "email", "password"],
)
async def test_very_long_strings_are_422(client: httpx.AsyncClient, field: str) -> None:
    body = {"name": "Long", "email": unique_email(), "password": PASSWORD}
    body[field] = {
        "name": "N" * 10_000,
        "email": "a" * 5_000 + "@example.com",
        "password": "Aa1!" * 50_000,
    }[field]
    response = await client.post("/users", json=body)
    assert_client_error(response, 422)


async def test_very_long_login_fields_are_refused_cheaply(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await login(client, user["email"], "Aa1!" * 100_000)
    assert_client_error(response, 401, 422)
    response = await client.post("/login/refresh", json={"refresh_token": "r" * 200_000})
    assert_client_error(response, 401, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Nul\x00Byte", "email": "EMAIL", "password": PASSWORD},
        {"name": "Nul", "email": "nul\x00byte@example.com", "password": PASSWORD},
        {"name": "\x00", "email": "EMAIL", "password": PASSWORD},
        {"name": "Bell\x07\x1b[31m", "email": "EMAIL", "password": PASSWORD},
    ],
    ids=["nul-in-name", "nul-in-email", "only-nul", "control-chars"],
)
async def test_nul_and_control_characters_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    body = {k: unique_email() if v == "EMAIL" else v for k, v in body.items()}
    assert_client_error(await client.post("/users", json=body), 422)


async def test_a_nul_byte_in_a_password_never_breaks_the_service(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email()
    password = "Nul\x00Pass1!"
    response = await client.post("/users", json={"name": "N", "email": email, "password": password})
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        assert (await login(client, email, password)).status_code == 200
        assert_unauthorized(await login(client, email, "Nul"))
    assert_client_error(await login(client, unique_email(), "a\x00b"), 401, 422)


async def test_nul_bytes_in_the_path_and_query(client: httpx.AsyncClient, admin: Account) -> None:
    for path in ("/users/%00", "/users/abc%00def", "/users?page=%00", "/users?size=1%00"):
        response = await client.get(path, headers=admin.auth)
        assert response.status_code < NEVER, f"{path}: {response.status_code} {response.text}"


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_json_is_a_client_error(client: httpx.AsyncClient, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    for path in ("/users", "/login/auth"):
        response = await client.post(
            path,
            content=b'{"name": ' + nested + b', "email": "a@example.com", "password": "x"}',
            headers={"Content-Type": "application/json"},
        )
        assert_client_error(response, 400, 422)


# --- routes and methods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/nope", "/users/me/extra", "/login", "/login/nope", "/.well-known/other", "/admin"],
)
async def test_unknown_routes_are_404_problems(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert_problem(response, 404)


@pytest.mark.parametrize(
    "path", ["/jogos/%2E%2E/admin/events", "/users/%2e%2e/admin/dlq", "/login/..%2Fadmin%2Fdlq"]
)
async def test_encoded_dot_segments_never_reach_an_admin_route(
    client: httpx.AsyncClient, player: Account, path: str
) -> None:
    response = await client.get(path, headers=player.auth)
    assert_client_error(response, 400, 403, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/login/auth"),
        ("DELETE", "/login/refresh"),
        ("PATCH", "/users"),
        ("PUT", "/.well-known/jwks.json"),
        ("POST", "/users/me"),
    ],
)
async def test_wrong_methods_are_405_problems(
    client: httpx.AsyncClient, player: Account, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=player.auth)
    assert_problem(response, 405)
    assert method not in response.headers.get("allow", method), response.headers


# --- request ids ---------------------------------------------------------------------------------


async def test_every_response_carries_a_request_id(
    client: httpx.AsyncClient, player: Account
) -> None:
    responses = [
        await client.post(
            "/users", json={"name": "R", "email": unique_email(), "password": PASSWORD}
        ),
        await client.get("/users/me", headers=player.auth),
        await client.get("/users/me"),
        await client.get("/users", headers=player.auth),
        await client.get("/nope"),
        await client.delete("/login/auth"),
        await client.post("/users", json={}),
        await client.get("/.well-known/jwks.json"),
        await client.get("/healthz"),
    ]
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids), [
        (r.status_code, r.request.url.path) for r in responses if not r.headers.get("x-request-id")
    ]
    assert len(set(ids)) == len(ids), "request ids must be new for every request"


async def test_a_sane_client_request_id_is_echoed(
    client: httpx.AsyncClient, player: Account
) -> None:
    for request_id in (f"e2e-{uuid.uuid4()}", "abc.DEF_123:456"):
        for response in (
            await client.get("/users/me", headers={**player.auth, "X-Request-ID": request_id}),
            await client.get("/nope", headers={"X-Request-ID": request_id}),
            await client.post("/users", json={}, headers={"X-Request-ID": request_id}),
        ):
            assert response.headers.get("x-request-id") == request_id


@pytest.mark.parametrize(
    "request_id",
    ["has spaces in it", "x" * 1000, "semi;colon", "new\\nline", "<script>"],
    ids=["spaces", "too-long", "semicolon", "backslash", "markup"],
)
async def test_an_insane_request_id_is_replaced(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": request_id})
    echoed = response.headers.get("x-request-id")
    assert echoed and echoed != request_id
    assert re.fullmatch(r"[A-Za-z0-9._:\-]{1,128}", echoed), echoed


async def test_the_request_id_is_in_both_logs_and_in_the_event(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    request_id = f"e2e-{uuid.uuid4().hex}"
    response = await client.post(
        "/users",
        json={"name": "Traced", "email": unique_email(), "password": PASSWORD},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 201, response.text

    async def logged() -> bool:
        return all(f"corr={request_id}" in stack.log_text(p) for p in ("gateway", "users"))

    await eventually(logged, what=f"corr={request_id} in gateway.log and users.log")
    events = await events_of(stack, request_id, 1)
    assert [e.type for e in events] == ["UserRegistered"]
    assert response.json()["id"] in events[0].stream_id + json.dumps(events[0].data)


async def events_of(stack: Stack, correlation_id: str, at_least: int) -> list[RecordedEvent]:
    """The events ``correlation_id`` caused, once at least ``at_least`` have been relayed."""
    store = await connect(stack.event_store_url)
    try:

        async def relayed() -> list[RecordedEvent] | None:
            found = list(await store.read_correlation(correlation_id))
            return found if len(found) >= at_least else None

        return await eventually(relayed, what=f"{at_least} event(s) of {correlation_id}")
    finally:
        await store.close()


async def test_user_lifecycle_events_carry_the_request_ids(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    ids = {kind: f"e2e-{kind}-{uuid.uuid4().hex[:12]}" for kind in ("reg", "upd", "del")}
    created = await client.post(
        "/users",
        json={"name": "Lifecycle", "email": unique_email(), "password": PASSWORD},
        headers={"X-Request-ID": ids["reg"]},
    )
    user_id = created.json()["id"]
    tokens = (await login(client, created.json()["email"], PASSWORD)).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    updated = await client.put(
        f"/users/{user_id}", json={"name": "Changed"}, headers={**auth, "X-Request-ID": ids["upd"]}
    )
    assert updated.status_code == 200, updated.text
    deleted = await client.delete(f"/users/{user_id}", headers={**auth, "X-Request-ID": ids["del"]})
    assert deleted.status_code == 204, deleted.text
    kinds = {"reg": "UserRegistered", "upd": "UserUpdated", "del": "UserDeleted"}
    streams = set()
    for kind, request_id in ids.items():
        events = await events_of(stack, request_id, 1)
        assert [e.type for e in events] == [kinds[kind]], events
        assert user_id in events[0].stream_id + json.dumps(events[0].data)
        streams.add(events[0].stream_id)
    assert len(streams) == 1, "one stream per user"


# --- no secrets in logs or events ----------------------------------------------------------------


async def test_no_password_or_token_reaches_a_log_or_an_event(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    marker = uuid.uuid4().hex[:10]
    password, new_password, wrong = f"Pw{marker}!1", f"Nw{marker}!2", f"Wr{marker}!3"
    request_id = f"e2e-secrets-{marker}"
    headers = {"X-Request-ID": request_id}
    account = await new_account(client, password=password)
    await login(client, account.email, wrong)
    await client.post("/login/auth", json={"email": unique_email(), "password": wrong})
    refreshed = await client.post("/login/refresh", json={"refresh_token": account.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    await client.post("/login/logout", json={"refresh_token": refreshed.json()["refresh_token"]})
    changed = await client.put(
        f"/users/{account.id}",
        json={"password": new_password, "current_password": password},
        headers={**account.auth, **headers},
    )
    assert changed.status_code == 200, changed.text
    await client.post("/users", json={"name": "x", "email": "bad", "password": password})
    await login(client, account.email, new_password)
    await events_of(stack, request_id, 1)  # the password change has been relayed
    secrets = {
        "password": password,
        "new password": new_password,
        "wrong password": wrong,
        "access token": account.access_token,
        "access token signature": account.access_token.rsplit(".", 1)[1],
        "refresh token": account.refresh_token,
        "rotated refresh token": refreshed.json()["refresh_token"],
    }
    logs = stack.all_logs()
    assert logs.strip(), "no logs were written"
    store = await connect(stack.event_store_url)
    try:
        events = await store.read_all(after=0, limit=100_000)
    finally:
        await store.close()
    assert events, "no events were written"
    stored = "\n".join(str(e.envelope()) for e in events)
    for what, secret in secrets.items():
        assert secret not in logs, f"a {what} appears in the logs"
        assert secret not in stored, f"a {what} appears in an event"
    for text, where in ((logs, "logs"), (stored, "events")):
        assert "$argon2" not in text, f"a password hash appears in the {where}"
    for event in events:
        keys = {k.lower() for k in event.data}
        assert not {k for k in keys if "password" in k or "hash" in k or "token" in k}, event
