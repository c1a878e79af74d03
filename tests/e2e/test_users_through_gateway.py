"""Every row of the Users table in CONTRACT.md, through the gateway, against real processes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.api import (
    PASSWORD,
    Account,
    assert_problem,
    assert_unauthorized,
    bearer,
    login,
    new_account,
    register,
    unique_email,
)

USER_FIELDS = {"id", "name", "email", "role", "created_at"}


def assert_user_shape(user: dict[str, Any]) -> None:
    assert user.keys() >= USER_FIELDS, user
    uuid.UUID(user["id"])
    created = datetime.fromisoformat(user["created_at"].replace("Z", "+00:00"))
    assert created.utcoffset() == timedelta(0), user
    leaked = {k for k in user if "password" in k.lower() or "hash" in k.lower()}
    assert not leaked, f"secret fields in a user body: {leaked}"
    assert "$argon2" not in str(user)


# --- POST /users -------------------------------------------------------------------------------


async def test_register_returns_the_new_player(client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post(
        "/users", json={"name": "Grace Hopper", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert_user_shape(user)
    assert (user["name"], user["email"], user["role"]) == ("Grace Hopper", email, "player")
    assert PASSWORD not in response.text


async def test_self_registration_never_makes_an_admin(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/users",
        json={"name": "Mallory", "email": unique_email(), "password": PASSWORD, "role": "admin"},
    )
    # Either the unknown field is refused, or it is ignored: never an admin by self-service.
    if response.status_code == 201:
        assert response.json()["role"] == "player"
    else:
        assert_problem(response, 422)


async def test_register_refuses_a_taken_email_in_any_case(client: httpx.AsyncClient) -> None:
    email = unique_email("Case")
    await register(client, email=email)
    for variant in (email, email.upper(), email.swapcase()):
        response = await client.post(
            "/users", json={"name": "Copy", "email": variant, "password": PASSWORD}
        )
        assert_problem(response, 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"name": "A", "email": "a@", "password": PASSWORD}, "email"),
        ({"name": "A", "email": "@example.com", "password": PASSWORD}, "email"),
        ({"name": "A", "email": None, "password": PASSWORD}, "email"),
        ({"name": "A", "email": "EMAIL", "password": "Sh0rt!"}, "password"),
        ({"name": "A", "email": "EMAIL", "password": "12345678!"}, "password"),
        ({"name": "A", "email": "EMAIL", "password": "abcdefgh!"}, "password"),
        ({"name": "A", "email": "EMAIL", "password": "abcdefgh12"}, "password"),
        ({"name": "A", "email": "EMAIL", "password": ""}, "password"),
        ({"name": "", "email": "EMAIL", "password": PASSWORD}, "name"),
        ({"email": "EMAIL", "password": PASSWORD}, "name"),
        ({"name": "A", "password": PASSWORD}, "email"),
        ({"name": "A", "email": "EMAIL"}, "password"),
    ],
    ids=[
        "email-no-at",
        "email-no-domain",
        "email-no-local",
        "email-null",
        "password-too-short",
        "password-no-letter",
        "password-no-digit",
        "password-no-special",
        "password-empty",
        "name-empty",
        "missing-name",
        "missing-email",
        "missing-password",
    ],
)
async def test_register_refuses_invalid_input(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    body = {k: (unique_email() if v == "EMAIL" else v) for k, v in body.items()}
    response = await client.post("/users", json=body)
    problem = assert_problem(response, 422)
    errors = problem.get("errors")
    assert isinstance(errors, list) and errors, problem
    assert all({"loc", "msg"} <= e.keys() for e in errors), errors
    assert any(field in [str(part) for part in e["loc"]] for e in errors), errors
    if field != "email" and "email" in body:
        # Nothing was created: the same email registers fine with valid fields.
        await register(client, email=body["email"])


async def test_register_refuses_an_empty_body(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post("/users", json={}), 422)
    fields = {str(part) for e in problem["errors"] for part in e["loc"]}
    assert {"name", "email", "password"} <= fields, problem


# --- POST /login/auth --------------------------------------------------------------------------


async def test_login_issues_a_short_lived_asymmetric_token_pair(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    response = await login(client, user["email"], PASSWORD)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert isinstance(tokens["expires_in"], int) and 0 < tokens["expires_in"] <= 900
    assert isinstance(tokens["refresh_token"], str) and len(tokens["refresh_token"]) >= 20
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] in ("EdDSA", "RS256") and header.get("kid"), header
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert {"sub", "role", "iss", "aud", "exp", "iat", "jti"} <= claims.keys(), claims
    assert (claims["sub"], claims["role"]) == (user["id"], "player")
    assert claims["exp"] - claims["iat"] <= 900
    assert PASSWORD not in str(claims)


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await login(client, user["email"].upper(), PASSWORD)
    assert response.status_code == 200, response.text


async def test_login_failure_looks_the_same_for_unknown_email_and_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    wrong_password = await login(client, user["email"], "Wr0ng!password")
    unknown_email = await login(client, unique_email("nobody"), PASSWORD)
    assert_unauthorized(wrong_password)
    assert_unauthorized(unknown_email)
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.headers["content-type"] == unknown_email.headers["content-type"]
    assert "access_token" not in wrong_password.text


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "x@example.com"}, {"password": PASSWORD}, {"email": "nope", "password": "x"}],
    ids=["empty", "no-password", "no-email", "bad-email"],
)
async def test_login_refuses_invalid_input(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/login/auth", json=body)
    # A malformed email may be told apart from a wrong one: it can never be an account.
    assert response.status_code in (401, 422), response.text
    assert_problem(response, response.status_code)


# --- POST /login/refresh and /login/logout ------------------------------------------------------


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/login/refresh", json={"refresh_token": token})


async def test_refresh_rotates_the_pair_and_kills_the_old_refresh_token(
    client: httpx.AsyncClient, player: Account
) -> None:
    response = await refresh(client, player.refresh_token)
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["token_type"] == "Bearer" and 0 < pair["expires_in"] <= 900
    assert pair["refresh_token"] != player.refresh_token
    assert pair["access_token"] != player.access_token
    me = await client.get("/users/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == player.id
    assert_unauthorized(await refresh(client, player.refresh_token))


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, player: Account
) -> None:
    first = await refresh(client, player.refresh_token)
    assert first.status_code == 200, first.text
    second = await refresh(client, first.json()["refresh_token"])
    assert second.status_code == 200, second.text
    newest = second.json()["refresh_token"]
    # The original token comes back (stolen?): refused, and the family dies with it.
    assert_unauthorized(await refresh(client, player.refresh_token))
    assert_unauthorized(await refresh(client, newest))
    # Another login starts a new, independent family.
    again = await login(client, player.email, player.password)
    assert again.status_code == 200, again.text
    assert (await refresh(client, again.json()["refresh_token"])).status_code == 200


async def test_refresh_refuses_unknown_and_malformed_tokens(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await refresh(client, "not-a-token-we-issued-" + uuid.uuid4().hex))
    response = await client.post("/login/refresh", json={})
    assert_problem(response, 422)


async def test_logout_ends_the_refresh_token(client: httpx.AsyncClient, player: Account) -> None:
    response = await client.post("/login/logout", json={"refresh_token": player.refresh_token})
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_unauthorized(await refresh(client, player.refresh_token))


async def test_logout_of_one_session_leaves_the_others(client: httpx.AsyncClient) -> None:
    account = await new_account(client)
    other = await login(client, account.email, account.password)
    assert other.status_code == 200
    logout = await client.post("/login/logout", json={"refresh_token": account.refresh_token})
    assert logout.status_code == 204
    assert (await refresh(client, other.json()["refresh_token"])).status_code == 200


# --- GET /users/me, GET /users ------------------------------------------------------------------


async def test_me_is_the_caller(client: httpx.AsyncClient, player: Account) -> None:
    response = await client.get("/users/me", headers=player.auth)
    assert response.status_code == 200, response.text
    user = response.json()
    assert_user_shape(user)
    assert (user["id"], user["email"], user["role"]) == (player.id, player.email, "player")


async def test_me_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await client.get("/users/me"))


async def test_admin_lists_users_in_pages(client: httpx.AsyncClient, admin: Account) -> None:
    created = [await register(client, name=f"Lister {i}") for i in range(3)]
    response = await client.get("/users", headers=admin.auth)
    assert response.status_code == 200, response.text
    page = response.json()
    assert {"items", "total", "page", "size"} <= page.keys()
    assert (page["page"], page["size"]) == (1, 20)
    assert page["total"] >= len(created) + 1
    for user in page["items"]:
        assert_user_shape(user)
    found: set[str] = set()
    number = 1
    while True:
        response = await client.get(f"/users?page={number}&size=2", headers=admin.auth)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["size"] == 2 and body["page"] == number and len(body["items"]) <= 2
        found |= {u["id"] for u in body["items"]}
        if number * 2 >= body["total"]:
            break
        number += 1
    assert {u["id"] for u in created} <= found
    assert admin.id in found


@pytest.mark.parametrize("query", ["size=101", "size=0", "page=0", "page=-1"])
async def test_list_never_serves_an_out_of_range_page(
    client: httpx.AsyncClient, admin: Account, query: str
) -> None:
    response = await client.get(f"/users?{query}", headers=admin.auth)
    # Refused, or clamped into range: never a page of more than 100, never a 500.
    if response.status_code == 200:
        body = response.json()
        assert body["page"] >= 1 and 1 <= body["size"] <= 100, body
        assert len(body["items"]) <= 100
    else:
        assert_problem(response, 422)


async def test_list_refuses_non_numeric_paging(client: httpx.AsyncClient, admin: Account) -> None:
    assert_problem(await client.get("/users?size=abc", headers=admin.auth), 422)


async def test_list_is_for_admins_only(client: httpx.AsyncClient, player: Account) -> None:
    assert_problem(await client.get("/users", headers=player.auth), 403)
    anonymous = await client.get("/users")
    assert_unauthorized(anonymous)


# --- GET / PUT / DELETE /users/{id} -------------------------------------------------------------


async def test_user_reads_and_changes_self(client: httpx.AsyncClient, player: Account) -> None:
    response = await client.get(f"/users/{player.id}", headers=player.auth)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == player.email
    changed = await client.put(
        f"/users/{player.id}", headers=player.auth, json={"name": "Renamed Player"}
    )
    assert changed.status_code == 200, changed.text
    assert_user_shape(changed.json())
    assert changed.json()["name"] == "Renamed Player"
    again = await client.get("/users/me", headers=player.auth)
    assert again.json()["name"] == "Renamed Player"


async def test_user_changes_own_password(client: httpx.AsyncClient, player: Account) -> None:
    new_password = "N3w!password"
    without = await client.put(
        f"/users/{player.id}", headers=player.auth, json={"password": new_password}
    )
    assert_problem(without, 403)  # the current password is needed
    changed = await client.put(
        f"/users/{player.id}",
        headers=player.auth,
        json={"password": new_password, "current_password": player.password},
    )
    assert changed.status_code == 200, changed.text
    assert new_password not in changed.text
    assert_unauthorized(await login(client, player.email, player.password))
    assert (await login(client, player.email, new_password)).status_code == 200


async def test_update_refuses_a_weak_password_and_a_taken_email(
    client: httpx.AsyncClient, player: Account
) -> None:
    weak = await client.put(f"/users/{player.id}", headers=player.auth, json={"password": "weak"})
    assert_problem(weak, 422)
    other = await register(client)
    taken = await client.put(
        f"/users/{player.id}", headers=player.auth, json={"email": other["email"].upper()}
    )
    assert_problem(taken, 409)


async def test_admin_reads_changes_and_promotes_another_user(
    client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    read = await client.get(f"/users/{player.id}", headers=admin.auth)
    assert read.status_code == 200 and read.json()["email"] == player.email
    changed = await client.put(
        f"/users/{player.id}", headers=admin.auth, json={"name": "Promoted", "role": "admin"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["role"]) == ("Promoted", "admin")
    relogin = await login(client, player.email, player.password)
    promoted = bearer(relogin.json()["access_token"])
    assert (await client.get("/users", headers=promoted)).status_code == 200


async def test_user_deletes_self(client: httpx.AsyncClient, player: Account) -> None:
    response = await client.delete(f"/users/{player.id}", headers=player.auth)
    assert response.status_code == 204, response.text
    assert_unauthorized(await login(client, player.email, player.password))


async def test_admin_deletes_a_user(
    client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    response = await client.delete(f"/users/{player.id}", headers=admin.auth)
    assert response.status_code == 204, response.text
    assert_problem(await client.get(f"/users/{player.id}", headers=admin.auth), 404)
    assert_problem(await client.delete(f"/users/{player.id}", headers=admin.auth), 404)
    # The email is free again once its account is gone.
    await register(client, email=player.email)


async def test_unknown_user_id_is_404(client: httpx.AsyncClient, admin: Account) -> None:
    for user_id in (str(uuid.uuid4()), "not-a-uuid"):
        response = await client.get(f"/users/{user_id}", headers=admin.auth)
        assert response.status_code in (404, 422), response.text
        assert_problem(response, response.status_code)


async def test_user_routes_need_a_token(client: httpx.AsyncClient, player: Account) -> None:
    assert_unauthorized(await client.get(f"/users/{player.id}"))
    assert_unauthorized(await client.put(f"/users/{player.id}", json={"name": "x"}))
    assert_unauthorized(await client.delete(f"/users/{player.id}"))


# --- GET /.well-known/jwks.json -----------------------------------------------------------------


async def test_jwks_is_public_and_holds_only_public_keys(
    client: httpx.AsyncClient, player: Account
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    keys = response.json()["keys"]
    assert keys, "no signing keys published"
    for key in keys:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519", key
        assert key.get("kid") and key.get("x"), key
        assert key.get("alg", "EdDSA") == "EdDSA" and key.get("use", "sig") == "sig", key
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & key.keys(), "private key material"
    # The key that signs our tokens is among them, and verifies them.
    kid = jwt.get_unverified_header(player.access_token)["kid"]
    published = {k["kid"]: k for k in keys}
    assert kid in published
    public = jwt.PyJWK(published[kid])
    claims = jwt.decode(player.access_token, public.key, algorithms=["EdDSA"], audience="gamestore")
    assert claims["sub"] == player.id
