"""Cover routes of the games service: admin uploads and removals, public files, events, search.

Run on SQLite and PostgreSQL (the ``api`` fixture), the covers stored on disk under the data
dir (the storage contract suite covers S3).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image

from gamestore.games.covers.images import MAX_BYTES
from tests.covers_support import image_bytes, png_header_claiming
from tests.integration.games.support import GamesApi, problem
from tests.integration.games.test_events import stream_of
from tests.integration.games.test_search_api import indexer, until

__all__ = ["indexer"]  # the fixture, used by name below

IMMUTABLE = "public, max-age=31536000, immutable"


async def _upload(
    api: GamesApi, game_id: str, body: bytes, content_type: str = "image/png", **headers: str
) -> httpx.Response:
    sent = {**api.admin, "Content-Type": content_type, **headers}
    return await api.client.put(f"/jogos/{game_id}/capa", content=body, headers=sent)


async def _file(api: GamesApi, url: str, **headers: str) -> httpx.Response:
    return await api.client.get(url, headers=headers)


def _urls(srcset: str) -> list[str]:
    return [item.strip().split(" ")[0] for item in srcset.split(",") if item.strip()]


async def test_an_upload_needs_a_token(api: GamesApi) -> None:
    game = await api.create()
    response = await api.client.put(f"/jogos/{game['id']}/capa", content=image_bytes())
    problem(response, 401)


async def test_an_upload_needs_an_admin(api: GamesApi) -> None:
    game = await api.create()
    headers = {**api.player, "Content-Type": "image/png"}
    response = await api.client.put(
        f"/jogos/{game['id']}/capa", content=image_bytes(), headers=headers
    )
    problem(response, 403)
    problem(await api.client.delete(f"/jogos/{game['id']}/capa", headers=api.player), 403)
    problem(await api.client.delete(f"/jogos/{game['id']}/capa"), 401)


async def test_an_upload_to_an_unknown_game_is_404(api: GamesApi) -> None:
    problem(await _upload(api, str(uuid.uuid4()), image_bytes()), 404)
    problem(await _upload(api, "not-a-uuid", image_bytes()), 404)


async def test_a_declared_image_that_is_not_one_is_422(api: GamesApi) -> None:
    game = await api.create()
    body = problem(await _upload(api, game["id"], b"\x89PNG\r\n\x1a\n" + b"junk" * 500), 422)
    assert body["code"] == "cover_unreadable"
    assert "imagem legível" in body["detail"]  # in the caller's language (pt-BR by default)
    assert problem(await _upload(api, game["id"], b""), 422)["code"] == "cover_unreadable"


async def test_a_gif_sent_as_png_is_415(api: GamesApi) -> None:
    game = await api.create()
    gif = problem(await _upload(api, game["id"], image_bytes("GIF"), "image/png"), 415)
    assert gif["code"] == "cover_unsupported_type"


async def test_a_decompression_bomb_is_413(api: GamesApi) -> None:
    game = await api.create()
    body = problem(await _upload(api, game["id"], png_header_claiming(50_000, 50_000)), 413)
    assert body["code"] == "cover_too_many_pixels"
    assert "megapixels" in body["detail"]


async def test_a_body_over_5_mib_is_413(api: GamesApi) -> None:
    game = await api.create()
    too_big = problem(await _upload(api, game["id"], b"\0" * (MAX_BYTES + 1)), 413)
    assert too_big["code"] == "body_too_large"  # the route's wider limit, held by the platform


async def test_a_body_over_1_mib_is_allowed_on_the_upload_only(api: GamesApi) -> None:
    game = await api.create()
    big = image_bytes("PNG", (1400, 800), compress_level=0)  # ~3.4 MB, uncompressed
    assert 1024 * 1024 < len(big) < MAX_BYTES
    response = await _upload(api, game["id"], big)
    assert response.status_code == 200, response.text
    elsewhere = await api.client.put(f"/jogos/{game['id']}", content=big, headers=api.admin)
    problem(elsewhere, 413)


async def test_refused_uploads_change_nothing(api: GamesApi) -> None:
    game = await api.create()
    await _upload(api, game["id"], image_bytes("GIF"))
    after = (await api.client.get(f"/jogos/{game['id']}")).json()
    assert after["version"] == game["version"] and after["cover"] == game["cover"]


async def test_a_game_without_upload_has_generated_artwork(api: GamesApi) -> None:
    game = await api.create("Terra Bruta", genres=["Ação"])
    cover = game["cover"]
    assert cover["generated"] is True and cover["srcset"] == ""
    response = await _file(api, cover["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == IMMUTABLE
    assert b"Terra Bruta" in response.content
    again = await _file(api, cover["url"])
    assert again.content == response.content and again.headers["etag"] == response.headers["etag"]
    not_modified = await _file(api, cover["url"], **{"If-None-Match": response.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""


async def test_a_renamed_game_gets_a_new_artwork_url(api: GamesApi) -> None:
    from tests.integration.games.support import game_body

    game = await api.create("Primeiro Nome")
    renamed = (await api.put(game["id"], game_body("Segundo Nome"))).json()
    assert renamed["cover"]["url"] != game["cover"]["url"]
    stale = await _file(api, game["cover"]["url"])  # e.g. from a search index that lags
    assert stale.status_code == 200 and b"Segundo Nome" in stale.content
    assert stale.headers["cache-control"] == "no-cache"


async def test_an_upload_becomes_the_cover_with_every_width(api: GamesApi) -> None:
    game = await api.create()
    response = await _upload(api, game["id"], image_bytes("JPEG", (1920, 1080), exif=True))
    assert response.status_code == 200, response.text
    updated: dict[str, Any] = response.json()
    assert updated["version"] == game["version"] + 1
    assert response.headers["etag"] == f'"{updated["version"]}"'
    cover = updated["cover"]
    assert cover["generated"] is False
    assert (cover["width"], cover["height"]) == (1280, 720)
    assert (await api.client.get(f"/jogos/{game['id']}")).json()["cover"] == cover
    for url, kind in [(u, "image/jpeg") for u in _urls(cover["srcset"])] + [
        (u, "image/webp") for u in _urls(cover["webp_srcset"])
    ]:
        served = await _file(api, url)
        assert served.status_code == 200, url
        assert served.headers["content-type"] == kind
        assert served.headers["cache-control"] == IMMUTABLE
        assert served.headers["etag"]
        assert b"SpyCam" not in served.content
        with Image.open(io.BytesIO(served.content)) as decoded:
            assert len(decoded.getexif()) == 0
    assert len(_urls(cover["srcset"])) == 3 and cover["url"] == _urls(cover["srcset"])[-1]


async def test_an_upload_is_an_event_like_every_change(api: GamesApi) -> None:
    game = await api.create()
    updated = (await _upload(api, game["id"], image_bytes())).json()
    events = await stream_of(api.service, game["id"], 2)
    assert [(e.type, e.version) for e in events] == [("GameCreated", 1), ("GameUpdated", 2)]
    assert events[1].data == updated


async def test_the_same_upload_twice_changes_nothing(api: GamesApi) -> None:
    game = await api.create()
    first = (await _upload(api, game["id"], image_bytes())).json()
    second = (await _upload(api, game["id"], image_bytes())).json()
    assert second["version"] == first["version"] and second["cover"] == first["cover"]


async def test_a_new_upload_replaces_the_old_files(api: GamesApi) -> None:
    game = await api.create()
    first = (await _upload(api, game["id"], image_bytes("PNG", (800, 450)))).json()["cover"]
    second = (await _upload(api, game["id"], image_bytes("PNG", (800, 900)))).json()["cover"]
    assert second["url"] != first["url"]
    problem(await _file(api, first["url"]), 404)
    assert (await _file(api, second["url"])).status_code == 200


async def test_delete_goes_back_to_artwork_and_removes_the_files(api: GamesApi) -> None:
    game = await api.create()
    uploaded = (await _upload(api, game["id"], image_bytes())).json()
    response = await api.client.delete(f"/jogos/{game['id']}/capa", headers=api.admin)
    assert response.status_code == 204
    now = (await api.client.get(f"/jogos/{game['id']}")).json()
    assert now["cover"] == game["cover"] and now["version"] == uploaded["version"] + 1
    for url in _urls(uploaded["cover"]["webp_srcset"]):
        problem(await _file(api, url), 404)
    again = await api.client.delete(f"/jogos/{game['id']}/capa", headers=api.admin)
    assert again.status_code == 204
    assert (await api.client.get(f"/jogos/{game['id']}")).json()["version"] == now["version"]


@pytest.mark.parametrize(
    "name",
    ["nothing.png", "..%2F..%2Fetc%2Fpasswd", "0123456789abcdef0123-320.webp", "arte-0.svg"],
)
async def test_files_that_do_not_exist_are_404(api: GamesApi, name: str) -> None:
    game = await api.create()
    problem(await _file(api, f"/jogos/{game['id']}/capa/{name}"), 404)


async def test_a_file_of_an_unknown_game_is_404(api: GamesApi) -> None:
    game = await api.create()
    problem(await _file(api, game["cover"]["url"].replace(game["id"], str(uuid.uuid4()))), 404)


async def test_search_results_carry_the_cover(api: GamesApi, indexer: None) -> None:
    game = await api.create("Capa Buscável")
    uploaded = (await _upload(api, game["id"], image_bytes())).json()["cover"]

    async def search() -> httpx.Response:
        return await api.client.get("/jogos/busca", params={"q": "Buscável"})

    found = await until(search, lambda body: bool(body["items"]))
    assert found["items"][0]["cover"] == uploaded
