"""Invalid games are 422 problem documents naming the field; no input is ever a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.games.support import GamesApi, game_body, problem

INVALID: list[tuple[str, Any]] = [
    ("title", ""),
    ("title", "   "),
    ("title", "x" * 201),
    ("title", "line\nbreak"),
    ("title", "bell\x07"),
    ("title", 42),
    ("title", None),
    ("description", "d" * 10_001),
    ("description", ["text"]),
    ("genres", []),
    ("genres", "RPG"),
    ("genres", [""]),
    ("genres", ["  "]),
    ("genres", ["x" * 51]),
    ("genres", [1]),
    ("genres", [f"g{i}" for i in range(21)]),
    ("platforms", []),
    ("platforms", [None]),
    ("tags", [f"t{i}" for i in range(31)]),
    ("tags", {"a": 1}),
    ("price_cents", -1),
    ("price_cents", 100_000_001),
    ("price_cents", 10**30),
    ("price_cents", "1000"),
    ("price_cents", 19.9),
    ("price_cents", True),
    ("currency", "USD"),
    ("currency", "brl"),
    ("currency", ""),
    ("release_date", "2020-13-01"),
    ("release_date", "2020-02-30"),
    ("release_date", "20200101"),
    ("release_date", "2020-01-01T00:00:00Z"),
    ("release_date", "1900-01-01"),
    ("release_date", 1_600_000_000),
    ("release_date", ""),
    ("developer", ""),
    ("publisher", "p" * 201),
]
REQUIRED = [
    "title",
    "description",
    "genres",
    "platforms",
    "price_cents",
    "release_date",
    "developer",
    "publisher",
    "tags",
]


async def _refused(api: GamesApi, body: Any, field: str | None = None) -> None:
    """POST and PUT both answer 422 naming ``field``."""
    game = await api.create()
    for response in (
        await api.client.post("/jogos", json=body, headers=api.admin),
        await api.put(game["id"], body),
    ):
        problem_body = problem(response, 422)
        if field is not None:
            assert any(field in e["loc"] for e in problem_body["errors"]), problem_body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_each_invalid_field_is_422(api: GamesApi) -> None:
    for field, value in INVALID:
        await _refused(api, {**game_body(), field: value}, field)
    for field in REQUIRED:
        body = {k: v for k, v in game_body().items() if k != field}
        await _refused(api, body, field)
    await _refused(api, {**game_body(), "discount": 10}, "discount")  # unknown field
    await _refused(api, {**game_body(), "id": "x"}, "id")
    await _refused(api, {**game_body(), "version": 9}, "version")
    total = (await api.client.get("/jogos")).json()["total"]
    assert total == len(INVALID) + len(REQUIRED) + 3  # only the games the PUTs targeted


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_whole_number_written_with_a_point_is_that_number(api: GamesApi) -> None:
    """JSON (and JSON Schema's "integer") has one number 100, however it is written."""
    response = await api.client.post(
        "/jogos", json={**game_body(), "price_cents": 100.0}, headers=api.admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["price_cents"] == 100 and isinstance(response.json()["price_cents"], int)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_malformed_bodies_are_422(api: GamesApi) -> None:
    headers = {**api.admin, "Content-Type": "application/json"}
    for raw in (b"", b"{", b"[]", b"null", b'"x"', b"\xff\xfe", b'{"title": "a"' + b" " * 10):
        response = await api.client.post("/jogos", content=raw, headers=headers)
        assert response.status_code in (400, 422), (raw, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_text_is_trimmed_normalized_and_labels_deduplicated(api: GamesApi) -> None:
    game = await api.create(
        title="  Pokémon Red  ",
        genres=["RPG", "rpg", " RPG ", "Adventure"],
        platforms=["Game Boy", "GAME BOY"],
        tags=[],
    )
    assert game["title"] == "Pokémon Red"
    assert game["genres"] == ["RPG", "Adventure"]
    assert game["platforms"] == ["Game Boy"]
    assert game["tags"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_hostile_text_is_stored_as_text(api: GamesApi) -> None:
    hostile = ["' OR 1=1 --", "Robert'); DROP TABLE games;--", "<script>alert(1)</script>", "🎮"]
    for title in hostile:
        game = await api.create(title)
        fetched = (await api.client.get(f"/jogos/{game['id']}")).json()
        assert fetched["title"] == title
    assert (await api.client.get("/jogos")).json()["total"] == len(hostile)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_hostile_ids_and_headers_never_500(api: GamesApi) -> None:
    game = await api.create()
    for game_id in ("' OR 1=1 --", "..%2F..%2Fetc", "0" * 5000, "%00", "%ff"):
        assert (await api.client.get(f"/jogos/{game_id}")).status_code == 404
    for if_match in ('"' + "9" * 40 + '"', '"-1"', "*,*", "W/*", '""', "\t", "x" * 999):
        response = await api.put(game["id"], game_body(), if_match=if_match)
        assert response.status_code in (200, 412), (if_match, response.text)
    huge = await api.put(game["id"], game_body(), if_match="x" * 5000)
    assert huge.status_code in (412, 422), huge.text
