"""The web app's files, served by the gateway itself from memory.

The single-page app (``gateway/web/``: one HTML page, ES modules, one CSS file, no build step)
is read once when the gateway is built. ``GET /`` answers the page; every other file lives
under ``/app/<version>/<name>``, where ``<version>`` is a digest of all the files: the page is
revalidated on every load (``no-cache`` + ``ETag``), the assets it names are immutable, so a
deploy changes their URLs and a browser never mixes old and new modules. A request is answered
only with a file loaded at start-up (a name, never a filesystem path), gzipped when the client
accepts it, with a strict Content-Security-Policy: scripts and styles from this origin only,
nothing inline, API calls to this origin only. ``/favicon.ico`` is answered too, since browsers
ask for it at that fixed address whatever the page links.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.types import Receive, Scope, Send

from gamestore.platform.http.codes import define
from gamestore.platform.http.problems import answer
from gamestore.platform.i18n import N_

WEB_DIR = Path(__file__).with_name("web")
PAGE = "index.html"
PREFIX = "/app/"
FAVICON = "/favicon.ico"
VERSION_MARK = b"{{version}}"
MEDIA_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
    ".ico": b"image/x-icon",
}
CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
FAVICON_CACHE = b"public, max-age=86400"  # an unversioned URL: a day, then revalidated
NO_FILE = define(404, "web_file_not_found", N_("There is no such file in the web app."))
NOT_ALLOWED = define(
    405, "web_method_not_allowed", N_("The web app's files answer GET and HEAD only.")
)
MIN_GZIP = 512  # bytes: below this the gzip header costs more than it saves


@dataclass(frozen=True, slots=True)
class Asset:
    """One file as it is sent: its bytes, gzipped bytes (if worth it), type and ETag."""

    body: bytes
    gzipped: bytes | None
    media_type: bytes
    etag: bytes


def _asset(name: str, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()[:20]
    packed = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= MIN_GZIP else None
    media_type = MEDIA_TYPES.get(Path(name).suffix, b"application/octet-stream")
    return Asset(body, packed, media_type, f'"{digest}"'.encode())


def load(root: Path = WEB_DIR) -> tuple[str, dict[str, Asset]]:
    """The version digest and every servable file of ``root`` (the page with its version)."""
    files = {
        p.name: p.read_bytes()
        for p in sorted(root.iterdir())
        if p.is_file() and p.suffix in MEDIA_TYPES
    }
    if PAGE not in files:
        raise FileNotFoundError(f"the web app has no {PAGE} in {root}")
    digest = hashlib.sha256()
    for name, body in files.items():
        digest.update(name.encode() + b"\0" + body + b"\0")
    version = digest.hexdigest()[:12]
    files[PAGE] = files[PAGE].replace(VERSION_MARK, version.encode())
    return version, {name: _asset(name, body) for name, body in files.items()}


def is_site_path(path: str) -> bool:
    """Paths the web app owns: the page, its assets (no API route starts with /app/) and the
    favicon."""
    return path in ("/", FAVICON) or path.startswith(PREFIX)


def accepts_gzip(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (an explicit ``q=0`` refuses it)."""
    for name, value in headers:
        if name.lower() != b"accept-encoding":
            continue
        for item in value.decode("latin-1").lower().split(","):
            coding, _, params = item.strip().partition(";")
            if coding.strip() in ("gzip", "*"):
                return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class StaticSite:
    """An ASGI app answering ``GET``/``HEAD`` for the page and its assets from memory."""

    def __init__(self, root: Path = WEB_DIR) -> None:
        self.version, self.assets = load(root)

    def lookup(self, path: str) -> tuple[Asset, bytes] | None:
        """The asset for ``path`` and its Cache-Control, or None when there is none."""
        if path == "/":
            return self.assets[PAGE], REVALIDATE
        if path == FAVICON:
            found = self.assets.get(FAVICON[1:])
            return (found, FAVICON_CACHE) if found is not None else None
        parts = path[len(PREFIX) :].split("/")
        if len(parts) != 2 or parts[1] == PAGE or parts[1] not in self.assets:
            return None
        # An asset asked for under an older version is still answered, but not cached for long.
        return self.assets[parts[1]], IMMUTABLE if parts[0] == self.version else REVALIDATE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            allow = {"Allow": "GET, HEAD"}
            await answer(NOT_ALLOWED, headers=allow)(scope, receive, send)
            return
        found = self.lookup(scope["path"])
        if found is None:
            await answer(NO_FILE)(scope, receive, send)
            return
        asset, cache = found
        await _send(send, *self.response(asset, cache, scope["headers"], scope["method"]))

    def response(
        self, asset: Asset, cache: bytes, headers: Iterable[tuple[bytes, bytes]], method: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Status, headers and body for one asset (304 when the client's copy is current)."""
        request = list(headers)
        packed = asset.gzipped is not None and accepts_gzip(request)
        body = asset.gzipped if packed and asset.gzipped is not None else asset.body
        etag = asset.etag[:-1] + b'-gz"' if packed else asset.etag
        common = [
            (b"etag", etag),
            (b"cache-control", cache),
            (b"vary", b"Accept-Encoding"),
            (b"content-security-policy", CSP),
        ]
        if etag in _if_none_match(request):
            return 304, common, b""
        common += [(b"content-type", asset.media_type), (b"content-length", b"%d" % len(body))]
        if packed:
            common.append((b"content-encoding", b"gzip"))
        return 200, common, b"" if method == "HEAD" else body


def _if_none_match(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    tags: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"if-none-match":
            tags.update(t.strip().removeprefix(b"W/") for t in value.split(b","))
    return tags


async def _send(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def site_paths(site: StaticSite) -> Mapping[str, Asset]:
    """Every URL ``site`` answers, with its asset (the page at ``/``)."""
    urls = {f"{PREFIX}{site.version}/{n}": a for n, a in site.assets.items() if n != PAGE}
    return {"/": site.assets[PAGE], **urls}
