"""Every Games row of CONTRACT.md with its failure statuses, in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from tests.integration.games.support import GamesApi, game_body, problem

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_create_returns_the_game_with_version_location_and_etag(api: GamesApi) -> None:
    body = game_body("The Witcher 3: Wild Hunt", currency=None)  # currency defaults to BRL
    response = await api.client.post("/jogos", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    game = response.json()
    assert uuid.UUID(game["id"])
    assert response.headers["location"] == f"/jogos/{game['id']}"
    assert response.headers["etag"] == '"1"'
    expected = {k: v for k, v in body.items()}
    assert {k: game[k] for k in expected} == expected
    assert game["currency"] == "BRL"
    assert game["version"] == 1
    assert game["created_at"] == game["updated_at"]
    assert game["created_at"].endswith("Z") or game["created_at"].endswith("+00:00")


async def test_get_returns_the_game_with_a_strong_etag(api: GamesApi) -> None:
    created = await api.create()
    response = await api.client.get(f"/jogos/{created['id']}")  # no token: public
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == '"1"'


async def test_get_unknown_malformed_or_delisted_is_404(api: GamesApi) -> None:
    game = await api.create()
    assert (await api.client.delete(f"/jogos/{game['id']}", headers=api.admin)).status_code == 204
    for game_id in (UNKNOWN, "not-a-uuid", "1", "%20", game["id"], game["id"].upper() + "x"):
        problem(await api.client.get(f"/jogos/{game_id}"), 404)


async def test_uppercase_id_names_the_same_game(api: GamesApi) -> None:
    game = await api.create()
    response = await api.client.get(f"/jogos/{game['id'].upper()}")
    assert response.status_code == 200
    assert response.json()["id"] == game["id"]


async def test_duplicate_title_is_409_regardless_of_case_and_spacing(api: GamesApi) -> None:
    await api.create("Pokémon Red")
    for title in ("Pokémon Red", "POKÉMON RED", "  pokémon   red "):
        response = await api.client.post("/jogos", json=game_body(title), headers=api.admin)
        problem(response, 409)
    total = (await api.client.get("/jogos")).json()["total"]
    assert total == 1


async def test_a_delisted_game_frees_its_title(api: GamesApi) -> None:
    old = await api.create("Half-Life 3")
    assert (await api.client.delete(f"/jogos/{old['id']}", headers=api.admin)).status_code == 204
    new = await api.create("half-life 3")
    assert new["id"] != old["id"]


async def test_catalog_pages_listed_games_in_title_order(api: GamesApi) -> None:
    titles = ["Echo", "alpha", "Delta", "charlie", "Bravo"]
    ids = {t: (await api.create(t))["id"] for t in titles}
    assert (await api.client.delete(f"/jogos/{ids['Delta']}", headers=api.admin)).status_code == 204
    seen = []
    for page in (1, 2, 3):
        response = await api.client.get("/jogos", params={"page": page, "size": 2})
        assert response.status_code == 200
        body = response.json()
        assert (body["total"], body["page"], body["size"]) == (4, page, 2)
        seen += [item["title"] for item in body["items"]]
    assert seen == ["alpha", "Bravo", "charlie", "Echo"]
    default = (await api.client.get("/jogos")).json()
    assert (default["page"], default["size"], len(default["items"])) == (1, 20, 4)


async def test_catalog_narrowed_to_titles_containing_a_text(api: GamesApi) -> None:
    titles = ["The Witcher 3", "Witcher 2", "Hades", "100% Orange Juice", "snake_case", "W_tcher"]
    ids = {t: (await api.create(t))["id"] for t in titles}
    assert (
        await api.client.delete(f"/jogos/{ids['Witcher 2']}", headers=api.admin)
    ).status_code == 204

    async def titles_for(text: str, **params: int) -> tuple[list[str], int]:
        response = await api.client.get("/jogos", params={"title": text, **params})
        assert response.status_code == 200, response.text
        body = response.json()
        return [item["title"] for item in body["items"]], body["total"]

    assert await titles_for("WITCHER") == (["The Witcher 3"], 1)  # not the delisted one
    assert await titles_for("  the   witcher ") == (["The Witcher 3"], 1)
    assert await titles_for("%") == (["100% Orange Juice"], 1)  # a wildcard is a character
    assert await titles_for("_") == (["snake_case", "W_tcher"], 2)
    assert await titles_for("e", size=1, page=2) == (["Hades"], 5)
    assert await titles_for("zelda") == ([], 0)
    listed = await api.client.get("/jogos", params={"title": "hades"})
    assert listed.json()["items"][0]["version"] == 1
    for bad in ("", "x" * 201):
        problem(await api.client.get("/jogos", params={"title": bad}), 422)


async def test_bad_paging_is_422(api: GamesApi) -> None:
    for params in ({"size": 101}, {"size": 0}, {"page": 0}, {"page": "x"}, {"size": "1e9"}):
        problem(await api.client.get("/jogos", params=params), 422)


async def test_put_replaces_every_field_and_increments_the_version(api: GamesApi) -> None:
    game = await api.create("Doom")
    new = game_body("DOOM Eternal", genres=["Shooter"], tags=[], price_cents=0)
    response = await api.put(game["id"], new)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert response.headers["etag"] == '"2"'
    assert updated["version"] == 2
    assert {k: updated[k] for k in new} == new
    assert updated["created_at"] == game["created_at"]
    assert updated["updated_at"] > game["updated_at"]
    assert (await api.client.get(f"/jogos/{game['id']}")).json() == updated


async def test_put_with_if_match(api: GamesApi) -> None:
    game = await api.create()
    body = game_body()
    assert (await api.put(game["id"], body, if_match='"1"')).status_code == 200
    problem(await api.put(game["id"], game_body(), if_match='"1"'), 412)  # stale
    problem(await api.put(game["id"], game_body(), if_match='W/"2"'), 412)  # weak: no match
    problem(await api.put(game["id"], game_body(), if_match="2"), 412)  # not an entity tag
    problem(await api.put(game["id"], game_body(), if_match='"x", ""'), 412)
    assert (await api.put(game["id"], game_body(), if_match='"1", "2"')).status_code == 200
    response = await api.put(game["id"], game_body(), if_match="*")
    assert response.status_code == 200
    assert response.json()["version"] == 4
    assert (await api.client.get(f"/jogos/{game['id']}")).headers["etag"] == '"4"'


async def test_put_unknown_malformed_or_delisted_is_404(api: GamesApi) -> None:
    game = await api.create()
    assert (await api.client.delete(f"/jogos/{game['id']}", headers=api.admin)).status_code == 204
    for game_id in (UNKNOWN, "nope", game["id"]):
        problem(await api.put(game_id, game_body()), 404)
        problem(await api.put(game_id, game_body(), if_match="*"), 404)


async def test_put_to_another_games_title_is_409(api: GamesApi) -> None:
    await api.create("Celeste")
    game = await api.create("Hollow Knight")
    problem(await api.put(game["id"], game_body("CELESTE")), 409)
    renamed = await api.put(game["id"], game_body("hollow knight"))  # its own title, recased
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "hollow knight"


async def test_put_of_the_same_fields_changes_nothing(api: GamesApi) -> None:
    body = game_body()
    game = await api.create(**body)
    response = await api.put(game["id"], body)
    assert response.status_code == 200
    assert response.json() == game
    assert response.headers["etag"] == '"1"'


async def test_delete_delists_and_a_second_delete_is_404(api: GamesApi) -> None:
    game = await api.create()
    response = await api.client.delete(f"/jogos/{game['id']}", headers=api.admin)
    assert response.status_code == 204
    assert response.content == b""
    problem(await api.client.get(f"/jogos/{game['id']}"), 404)
    assert (await api.client.get("/jogos")).json() == {
        "items": [],
        "total": 0,
        "page": 1,
        "size": 20,
    }
    problem(await api.client.delete(f"/jogos/{game['id']}", headers=api.admin), 404)
    problem(await api.client.delete(f"/jogos/{UNKNOWN}", headers=api.admin), 404)
    problem(await api.client.delete("/jogos/xyz", headers=api.admin), 404)


async def test_writes_need_an_admin_reads_need_nobody(api: GamesApi) -> None:
    game = await api.create()
    path = f"/jogos/{game['id']}"
    writes = [("POST", "/jogos"), ("PUT", path), ("DELETE", path)]
    for method, target in writes:
        player = await api.client.request(method, target, json=game_body(), headers=api.player)
        problem(player, 403)
        anonymous = await api.client.request(method, target, json=game_body())
        problem(anonymous, 401)
        assert anonymous.headers["www-authenticate"].lower().startswith("bearer")
        forged = {"Authorization": "Bearer " + api.issuer.token("admin")[:-4] + "AAAA"}
        problem(await api.client.request(method, target, json=game_body(), headers=forged), 401)
    assert (await api.client.get(path)).status_code == 200
    assert (await api.client.get("/jogos")).json()["total"] == 1
