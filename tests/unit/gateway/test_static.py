"""The web app's files as the gateway serves them: versioned URLs, caching, gzip, the CSP, and
nothing but the loaded files (no path reaches the filesystem)."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gamestore.gateway.static import (
    CSP,
    FAVICON_CACHE,
    IMMUTABLE,
    REVALIDATE,
    WEB_DIR,
    StaticSite,
    accepts_gzip,
    is_site_path,
    site_paths,
)

FIRST_LOAD_CEILING = 250 * 1024


@pytest.fixture(scope="module")
def site() -> StaticSite:
    return StaticSite()


@pytest.fixture
async def client(site: StaticSite) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        yield http


async def test_the_page_names_its_assets_under_the_current_version(
    site: StaticSite, client: httpx.AsyncClient
) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == REVALIDATE.decode()
    named = set(re.findall(r'(?:src|href)="(/app/[^"]+)"', page.text))
    assert f"/app/{site.version}/main.js" in named
    assert "{{version}}" not in page.text
    for url in named:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == IMMUTABLE.decode()


async def test_every_response_carries_the_strict_policy(client: httpx.AsyncClient) -> None:
    policy = CSP.decode()
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert (await client.get("/")).headers["content-security-policy"] == policy


async def test_gzip_when_accepted_and_the_same_bytes_unpacked(
    site: StaticSite, client: httpx.AsyncClient
) -> None:
    url = f"/app/{site.version}/catalog.js"
    plain = await client.get(url, headers={"accept-encoding": "identity"})
    packed = await client.get(url, headers={"accept-encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers["etag"] != plain.headers["etag"]
    assert packed.content == plain.content  # httpx unpacks it
    assert int(packed.headers["content-length"]) < len(plain.content)


async def test_a_current_copy_is_a_304_without_a_body(
    site: StaticSite, client: httpx.AsyncClient
) -> None:
    first = await client.get("/", headers={"accept-encoding": "gzip"})
    again = await client.get(
        "/", headers={"accept-encoding": "gzip", "if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    stale = await client.get("/", headers={"if-none-match": '"nope"'})
    assert stale.status_code == 200


async def test_an_old_version_is_answered_but_not_cached_for_long(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/app/0123456789ab/main.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == REVALIDATE.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/app/",
        "/app/main.js",  # no version segment
        "/app/v/nothing.js",
        "/app/v/index.html",  # the page is only at /
        "/app/v/../static.py",
        "/app/v/%2e%2e%2fstatic.py",
        "/app/v/a/b.js",
        "/app/v/__init__.py",
    ],
)
async def test_only_loaded_files_are_served(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_other_methods_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    head = await client.head("/")
    assert head.status_code == 200 and head.content == b""


async def test_the_favicon_is_answered_where_browsers_look_for_it(
    site: StaticSite, client: httpx.AsyncClient
) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert icon.headers["cache-control"] == FAVICON_CACHE.decode()
    page = (await client.get("/")).text
    svg = re.search(r'<link rel="icon" href="(/app/[^"]+\.svg)" type="image/svg\+xml">', page)
    assert svg is not None, "the page links no SVG icon"
    drawn = await client.get(svg.group(1))
    assert drawn.status_code == 200 and drawn.headers["content-type"] == "image/svg+xml"
    assert drawn.content.startswith(b"<svg")
    assert (await client.get("/favicon.png")).status_code == 404


def test_site_paths_never_shadow_an_api_route() -> None:
    from gamestore.gateway.routes import TABLE, NotFound

    for path in ("/", "/app/x/main.js", "/favicon.ico"):
        assert is_site_path(path)
        assert isinstance(TABLE.match("GET", path), NotFound)
    for route in TABLE.routes:
        assert not is_site_path(route.pattern), route


@pytest.mark.parametrize(
    ("value", "expected"),
    [("gzip", True), ("br, gzip;q=0.5", True), ("gzip;q=0", False), ("identity", False),
     ("*", True), ("deflate, br", False)],
)  # fmt: skip
def test_accept_encoding(value: str, expected: bool) -> None:
    assert accepts_gzip([(b"accept-encoding", value.encode())]) is expected


def test_the_whole_app_gzipped_is_far_below_the_first_load_ceiling(site: StaticSite) -> None:
    total = sum(len(a.gzipped or a.body) for a in site_paths(site).values())
    assert total < FIRST_LOAD_CEILING / 4, total


def test_no_script_writes_html_from_strings() -> None:
    for script in WEB_DIR.glob("*.js"):
        text = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{script.name} uses {sink}"


def test_a_site_without_a_page_does_not_start(tmp_path: Path) -> None:
    (tmp_path / "main.js").write_text("export {};")
    with pytest.raises(FileNotFoundError):
        StaticSite(tmp_path)


def test_gzip_is_deterministic(site: StaticSite) -> None:
    page = site.assets["index.html"]
    assert page.gzipped is not None
    assert gzip.decompress(page.gzipped) == page.body


async def test_the_gateway_serves_the_site_and_nothing_else_changes(site: StaticSite) -> None:
    from gamestore.gateway.bootstrap import build_app
    from gamestore.platform.config import Settings

    app = build_app(Settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        page = await http.get("/")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CSP.decode()
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "x-request-id" in page.headers
        script = await http.get(f"/app/{site.version}/main.js")
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        missing = await http.get("/nothing")
        assert missing.status_code == 404
        assert missing.headers["content-security-policy"].startswith("default-src 'none'")
        assert (await http.post("/")).status_code == 405
