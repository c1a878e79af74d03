"""Who may do what: another user's account, roles, admin routes, deleted users."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.api import (
    Account,
    assert_problem,
    assert_unauthorized,
    bearer,
    login,
    new_account,
)

HIDDEN = (403, 404)  # another user's resource: not found (or forbidden), never shown


async def test_player_cannot_read_another_user(client: httpx.AsyncClient, player: Account) -> None:
    other = await new_account(client, name="Other Person")
    response = await client.get(f"/users/{other.id}", headers=player.auth)
    assert response.status_code in HIDDEN, response.text
    assert_problem(response, response.status_code)
    assert other.email not in response.text


async def test_player_cannot_change_another_user(
    client: httpx.AsyncClient, player: Account, admin: Account
) -> None:
    other = await new_account(client, name="Other Person")
    for body in ({"name": "Hijacked"}, {"email": f"h-{uuid.uuid4().hex[:8]}@example.com"}):
        response = await client.put(f"/users/{other.id}", headers=player.auth, json=body)
        assert response.status_code in HIDDEN, response.text
        assert_problem(response, response.status_code)
    password = await client.put(
        f"/users/{other.id}", headers=player.auth, json={"password": "Hij4cked!pw"}
    )
    assert password.status_code in HIDDEN, password.text
    unchanged = await client.get(f"/users/{other.id}", headers=admin.auth)
    assert (unchanged.json()["name"], unchanged.json()["email"]) == (other.name, other.email)
    assert (await login(client, other.email, other.password)).status_code == 200


async def test_player_cannot_delete_another_user(
    client: httpx.AsyncClient, player: Account, admin: Account
) -> None:
    other = await new_account(client, name="Other Person")
    response = await client.delete(f"/users/{other.id}", headers=player.auth)
    assert response.status_code in HIDDEN, response.text
    assert_problem(response, response.status_code)
    assert (await client.get(f"/users/{other.id}", headers=admin.auth)).status_code == 200


async def test_hidden_and_missing_users_look_alike(
    client: httpx.AsyncClient, player: Account
) -> None:
    other = await new_account(client, name="Other Person")
    existing = await client.get(f"/users/{other.id}", headers=player.auth)
    missing = await client.get(f"/users/{uuid.uuid4()}", headers=player.auth)
    if existing.status_code == 404:  # "404" chosen: nobody learns which ids exist
        assert missing.status_code == 404
        assert existing.json()["detail"] == missing.json()["detail"]


async def test_player_cannot_make_self_admin(client: httpx.AsyncClient, player: Account) -> None:
    response = await client.put(f"/users/{player.id}", headers=player.auth, json={"role": "admin"})
    assert_problem(response, 403)
    mixed = await client.put(
        f"/users/{player.id}", headers=player.auth, json={"name": "Sneaky", "role": "admin"}
    )
    assert_problem(mixed, 403)
    me = await client.get("/users/me", headers=player.auth)
    assert (me.json()["role"], me.json()["name"]) == ("player", player.name)
    fresh = await login(client, player.email, player.password)
    assert (
        await client.get("/users", headers=bearer(fresh.json()["access_token"]))
    ).status_code == 403


async def test_player_cannot_give_another_user_admin(
    client: httpx.AsyncClient, player: Account, admin: Account
) -> None:
    other = await new_account(client, name="Other Person")
    response = await client.put(f"/users/{other.id}", headers=player.auth, json={"role": "admin"})
    assert response.status_code in HIDDEN, response.text
    assert (await client.get(f"/users/{other.id}", headers=admin.auth)).json()["role"] == "player"


async def test_role_must_be_a_known_one(client: httpx.AsyncClient, admin: Account) -> None:
    target = await new_account(client)
    response = await client.put(
        f"/users/{target.id}", headers=admin.auth, json={"role": "superuser"}
    )
    assert_problem(response, 422)


ADMIN_ROUTES = [
    ("GET", "/users"),
    ("GET", "/admin/events"),
    ("GET", "/admin/dlq"),
    ("POST", "/admin/dlq/00000000-0000-0000-0000-000000000000/replay"),
    ("DELETE", "/admin/dlq/00000000-0000-0000-0000-000000000000"),
    ("POST", "/jogos"),
    ("PUT", "/jogos/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/jogos/00000000-0000-0000-0000-000000000000"),
]


@pytest.mark.parametrize(
    ("method", "path"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p in ADMIN_ROUTES]
)
async def test_player_on_admin_routes_is_forbidden(
    client: httpx.AsyncClient, player: Account, method: str, path: str
) -> None:
    # The gateway decides, even when the service behind the route is not running.
    response = await client.request(method, path, headers=player.auth, json={})
    assert_problem(response, 403)


@pytest.mark.parametrize(
    ("method", "path"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p in ADMIN_ROUTES]
)
async def test_anonymous_on_admin_routes_is_unauthorized(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    assert_unauthorized(await client.request(method, path, json={}))


async def test_admin_passes_to_a_service_that_is_down(
    client: httpx.AsyncClient, admin: Account
) -> None:
    # Payments is not running: the admin gets past the access check to a 503, not a 401/403.
    response = await client.get("/admin/events", headers=admin.auth)
    assert_problem(response, 503)


async def test_deleted_user_can_neither_log_in_nor_refresh(
    client: httpx.AsyncClient, admin: Account
) -> None:
    account = await new_account(client)
    deleted = await client.delete(f"/users/{account.id}", headers=admin.auth)
    assert deleted.status_code == 204, deleted.text
    assert_unauthorized(await login(client, account.email, account.password))
    refreshed = await client.post("/login/refresh", json={"refresh_token": account.refresh_token})
    assert_unauthorized(refreshed)
    # Its still-unexpired access token no longer finds an account either.
    me = await client.get("/users/me", headers=account.auth)
    assert me.status_code in (401, 404), me.text


async def test_user_who_deletes_self_cannot_refresh(client: httpx.AsyncClient) -> None:
    account = await new_account(client)
    assert (await client.delete(f"/users/{account.id}", headers=account.auth)).status_code == 204
    refreshed = await client.post("/login/refresh", json={"refresh_token": account.refresh_token})
    assert_unauthorized(refreshed)
    assert_unauthorized(await login(client, account.email, account.password))


async def test_demoted_admin_loses_admin_routes_at_once(
    client: httpx.AsyncClient, admin: Account
) -> None:
    account = await new_account(client)
    promoted = await client.put(f"/users/{account.id}", headers=admin.auth, json={"role": "admin"})
    assert promoted.status_code == 200, promoted.text
    tokens = (await login(client, account.email, account.password)).json()
    assert (await client.get("/users", headers=bearer(tokens["access_token"]))).status_code == 200
    demoted = await client.put(f"/users/{account.id}", headers=admin.auth, json={"role": "player"})
    assert demoted.status_code == 200, demoted.text
    # A refreshed token carries the role the account has now.
    refreshed = await client.post("/login/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    new_access = bearer(refreshed.json()["access_token"])
    assert (await client.get("/users", headers=new_access)).status_code == 403
