"""Every row of the Users table (CONTRACT.md) that manages accounts, with its failure statuses."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime

import pytest

from tests.integration.users.support import PASSWORD, UsersApi, bearer, new_email


async def test_register_returns_the_public_user(api: UsersApi) -> None:
    email = new_email()
    response = await api.client.post(
        "/users", json={"name": "  Ada Lovelace ", "email": email, "password": PASSWORD}
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "email", "role", "created_at", "updated_at"}
    assert body["name"] == "Ada Lovelace" and body["email"] == email and body["role"] == "player"
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert body["created_at"].endswith("Z") and datetime.fromisoformat(body["created_at"])
    assert response.headers["location"] == f"/users/{body['id']}"


async def test_an_email_is_taken_whatever_its_case(api: UsersApi) -> None:
    email = new_email()
    await api.register(email)

    again = await api.client.post(
        "/users", json={"name": "Eve", "email": email.upper(), "password": PASSWORD}
    )

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "lookalike",
    [
        "\uff41dmin-{tag}@example.com",  # fullwidth a
        "ADMIN-{tag}@EXAMPLE.COM",
        "admin-{tag}@\uff45xample.com",  # fullwidth e in the domain
        "\u1d2c\u1d30\u1d39\u1d35\u1d3a-{tag}@example.com",  # modifier capitals: ᴬᴰᴹᴵᴺ
    ],
)
async def test_a_lookalike_of_a_taken_email_is_the_same_email(
    api: UsersApi, lookalike: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    await api.register(f"admin-{tag}@example.com")
    again = await api.client.post(
        "/users",
        json={"name": "Eve", "email": lookalike.format(tag=tag), "password": PASSWORD},
    )
    assert again.status_code == 409, again.text


INVALID_REGISTRATIONS: list[dict[str, object]] = [
    {"name": "A", "email": "not-an-email", "password": PASSWORD},
    {"name": "   ", "email": "a@example.com", "password": PASSWORD},
    {"name": "x" * 101, "email": "a@example.com", "password": PASSWORD},
    {"name": "A\u0000B", "email": "a@example.com", "password": PASSWORD},
    {"name": "A", "email": "a@example.com", "password": "Sh0rt!"},
    {"name": "A", "email": "a@example.com", "password": "nodigits!!"},
    {"name": "A", "email": "a@example.com", "password": "12345678!"},
    {"name": "A", "email": "a@example.com", "password": "NoSpecial1"},
    {"name": "A", "email": "a@example.com", "password": "Aa1!" * 40},
    {"name": "A", "email": "a@example.com", "password": PASSWORD, "role": "admin"},
    {"email": "a@example.com", "password": PASSWORD},
    {"name": 5, "email": "a@example.com", "password": PASSWORD},
]


async def test_invalid_registrations_are_422_with_errors(api: UsersApi) -> None:
    for body in INVALID_REGISTRATIONS:
        response = await api.client.post("/users", json=body)

        assert response.status_code == 422, body
        problem = response.json()
        assert problem["status"] == 422 and problem["errors"]
        assert PASSWORD not in response.text


async def test_me_is_the_token_owner(api: UsersApi) -> None:
    player = await api.player()

    response = await api.client.get("/users/me", headers=player.headers)

    assert response.status_code == 200
    assert response.json()["id"] == player.id


@pytest.mark.parametrize("path", ["/users/me", "/users", f"/users/{uuid.uuid4()}"])
async def test_without_a_valid_token_it_is_401_with_a_bearer_challenge(
    api: UsersApi, path: str
) -> None:
    for headers in ({}, bearer("garbage"), {"Authorization": "Basic YTpi"}):
        response = await api.client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_player_cannot_see_change_or_delete_another_user(api: UsersApi) -> None:
    alice, bob = await api.player(), await api.player()
    path = f"/users/{bob.id}"

    assert (await api.client.get(path, headers=alice.headers)).status_code == 404
    change = await api.client.put(path, json={"name": "Pwned"}, headers=alice.headers)
    assert change.status_code == 404
    assert (await api.client.delete(path, headers=alice.headers)).status_code == 404
    assert (await api.client.get(path, headers=bob.headers)).json()["name"] == "Ada"


async def test_a_player_reads_and_updates_themselves(api: UsersApi) -> None:
    player = await api.player()
    path = f"/users/{player.id}"

    assert (await api.client.get(path, headers=player.headers)).status_code == 200
    response = await api.client.put(path, json={"name": "Grace"}, headers=player.headers)

    assert response.status_code == 200
    assert response.json()["name"] == "Grace"
    assert response.json()["updated_at"] > response.json()["created_at"]


async def test_only_an_admin_changes_a_role(api: UsersApi) -> None:
    player, admin = await api.player(), await api.admin()
    path = f"/users/{player.id}"

    own = await api.client.put(path, json={"role": "admin"}, headers=player.headers)
    assert own.status_code == 403
    same = await api.client.put(path, json={"role": "player"}, headers=player.headers)
    assert same.status_code == 200  # re-sending the role one has is no change
    promoted = await api.client.put(path, json={"role": "admin"}, headers=admin.headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"


async def test_the_database_role_wins_over_a_stale_token(api: UsersApi) -> None:
    player, admin = await api.player(), await api.admin()
    demote = await api.client.put(
        f"/users/{admin.id}", json={"role": "player"}, headers=admin.headers
    )
    assert demote.status_code == 200

    assert (await api.client.get("/users", headers=admin.headers)).status_code == 403
    other = await api.client.get(f"/users/{player.id}", headers=admin.headers)
    assert other.status_code == 404


async def test_an_email_change_to_a_taken_email_is_409(api: UsersApi) -> None:
    taken = await api.register()
    player = await api.player()

    response = await api.client.put(
        f"/users/{player.id}", json={"email": taken["email"].upper()}, headers=player.headers
    )

    assert response.status_code == 409


async def test_invalid_updates_are_422(api: UsersApi) -> None:
    player = await api.player()
    bodies = [{"role": "root"}, {"password": "weak"}, {"name": ""}, {"unknown": 1}, {"email": 42}]

    for body in bodies:
        response = await api.client.put(f"/users/{player.id}", json=body, headers=player.headers)
        assert response.status_code == 422, body


async def test_an_admin_lists_users_page_by_page(api: UsersApi) -> None:
    admin = await api.admin()
    for _ in range(4):
        await api.register()

    first = await api.client.get("/users?page=1&size=2", headers=admin.headers)
    last = await api.client.get("/users?page=3&size=2", headers=admin.headers)

    assert first.status_code == 200
    assert first.json()["total"] == 5 and len(first.json()["items"]) == 2
    assert first.json()["page"] == 1 and first.json()["size"] == 2
    assert len(last.json()["items"]) == 1
    everyone = (await api.client.get("/users?size=100", headers=admin.headers)).json()["items"]
    assert len({u["id"] for u in everyone}) == 5
    assert all("password" not in str(u) for u in everyone)


async def test_bad_pagination_is_422(api: UsersApi) -> None:
    admin = await api.admin()

    for query in ["size=101", "size=0", "page=0", "page=x", "page=99999999999", "size=-1"]:
        response = await api.client.get(f"/users?{query}", headers=admin.headers)
        assert response.status_code == 422, query


async def test_a_player_may_not_list_users(api: UsersApi) -> None:
    player = await api.player()

    assert (await api.client.get("/users", headers=player.headers)).status_code == 403


async def test_an_admin_reads_updates_and_deletes_anyone(api: UsersApi) -> None:
    player, admin = await api.player(), await api.admin()
    path = f"/users/{player.id}"

    assert (await api.client.get(path, headers=admin.headers)).status_code == 200
    renamed = await api.client.put(path, json={"name": "Renamed"}, headers=admin.headers)
    assert renamed.json()["name"] == "Renamed"
    assert (await api.client.delete(path, headers=admin.headers)).status_code == 204
    assert (await api.client.get(path, headers=admin.headers)).status_code == 404
    assert (await api.client.delete(path, headers=admin.headers)).status_code == 404


async def test_a_deleted_user_can_neither_log_in_nor_refresh_nor_use_a_token(
    api: UsersApi,
) -> None:
    player = await api.player()

    assert (
        await api.client.delete(f"/users/{player.id}", headers=player.headers)
    ).status_code == 204

    assert (await api.login(player.email)).status_code == 401
    assert (await api.refresh(player.refresh_token)).status_code == 401
    me = await api.client.get("/users/me", headers=player.headers)
    assert me.status_code == 401


async def test_a_deleted_users_email_can_register_again(api: UsersApi) -> None:
    player = await api.player()
    await api.client.delete(f"/users/{player.id}", headers=player.headers)

    again = await api.register(player.email)

    assert again["id"] != player.id


async def test_a_password_change_ends_every_session(api: UsersApi) -> None:
    player = await api.player()
    new_password = "an0ther-Secret"

    changed = await api.client.put(
        f"/users/{player.id}",
        json={"password": new_password, "current_password": PASSWORD},
        headers=player.headers,
    )

    assert changed.status_code == 200
    assert (await api.refresh(player.refresh_token)).status_code == 401
    assert (await api.login(player.email)).status_code == 401
    assert (await api.login(player.email, new_password)).status_code == 200


@pytest.mark.parametrize("current", [None, "", "wr0ng-Passw0rd!", "x" * 129])
async def test_changing_one_s_own_password_needs_the_current_one(
    api: UsersApi, current: str | None
) -> None:
    """A stolen access token (or an unlocked screen) must not be enough to take the account."""
    player = await api.player()
    body = {"password": "T4ken-over!pw"} | ({"current_password": current} if current else {})
    refused = await api.client.put(f"/users/{player.id}", json=body, headers=player.headers)
    assert refused.status_code == (422 if current and len(current) > 128 else 403), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await api.login(player.email)).status_code == 200  # the password did not change
    assert (await api.refresh(player.refresh_token)).status_code == 200  # nor the sessions


async def test_an_admin_resets_another_s_password_without_knowing_it(api: UsersApi) -> None:
    admin, player = await api.admin(), await api.player()
    reset = await api.client.put(
        f"/users/{player.id}", json={"password": "R3set-by-admin!"}, headers=admin.headers
    )
    assert reset.status_code == 200, reset.text
    assert (await api.login(player.email, "R3set-by-admin!")).status_code == 200


async def test_an_id_that_is_not_a_uuid_is_404(api: UsersApi) -> None:
    admin = await api.admin()

    for user_id, method in itertools.product(
        ["not-a-uuid", "1' OR '1'='1", "%00", "x" * 5000], ("GET", "PUT", "DELETE")
    ):
        body = {"name": "X"} if method == "PUT" else None
        response = await api.client.request(
            method, f"/users/{user_id}", json=body, headers=admin.headers
        )
        assert response.status_code == 404, (method, response.text)


async def test_an_id_in_another_spelling_names_the_same_user(api: UsersApi) -> None:
    player = await api.player()

    response = await api.client.get(f"/users/{player.id.upper()}", headers=player.headers)

    assert response.status_code == 200 and response.json()["id"] == player.id
