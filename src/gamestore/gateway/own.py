"""The gateway's own endpoints: liveness, readiness, the merged OpenAPI document, the docs.

The docs page is Swagger UI served from the ``swagger-ui-bundle-v2`` package: no CDN, so it
works offline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import swagger_ui_bundle
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gamestore.gateway.openapi import OpenApiMerger
from gamestore.platform.fleet import Watcher
from gamestore.platform.health import HEALTH, Health
from gamestore.platform.http.codes import define
from gamestore.platform.http.ops import OpsEndpoints
from gamestore.platform.http.problems import answer
from gamestore.platform.i18n import N_
from gamestore.platform.supervisor_status import crash_looping, read_status

NO_ASSET = define(404, "docs_asset_not_found", N_("No such documentation asset."))
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_INIT_JS = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  persistAuthorization: true,
});
"""
# A separate script, not an inline one: the Content-Security-Policy allows 'self' scripts only.
_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GameStore API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
"""


class UpstreamNotReady(Exception):
    """An upstream answered its ``/readyz`` with something other than 200."""


class OwnEndpoints:
    """An ASGI app for the gateway's own routes (the route table already checked the method).

    Its readiness is the upstreams' readiness: each one's ``/readyz`` must answer 200 (a
    service whose database is gone answers, with 503); under ``gamestore up``, no process may
    be waiting to be restarted after a crash. The same answer is served on the gateway's ops
    port (``ops``), beside its metrics.
    """

    def __init__(
        self,
        merger: OpenApiMerger,
        upstreams: Mapping[str, Sequence[str]],
        session: Callable[[], aiohttp.ClientSession],
        *,
        probe_timeout: float = 1.0,
        supervisor_status: Path | None = None,
        health: Health = HEALTH,
        fleet: Watcher | None = None,
    ) -> None:
        self._merger = merger
        self._upstreams = dict(upstreams)  # each service's replicas: ready when one of them is
        self._session = session
        self._supervisor_status = supervisor_status
        self._probe_timeout = aiohttp.ClientTimeout(total=probe_timeout)
        self._assets = Path(str(swagger_ui_bundle.swagger_ui_path))
        self._health = health
        self._fleet = fleet  # every process's own answers, for /admin/status
        self._watching = contextlib.ExitStack()
        self.ops = OpsEndpoints(health=health, unready=self._unready)
        self._public = OpsEndpoints(health=health, metrics=False, unready=self._unready)

    async def start(self) -> None:
        """Make readiness wait on every upstream's ``/readyz``."""
        for name, bases in self._upstreams.items():
            self._watching.enter_context(self._health.depends_on(name, self._probe_any(bases)))

    async def close(self) -> None:
        self._watching.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path in ("/healthz", "/readyz"):
            response: Response = await self._public.answer(path)
        elif path == "/admin/status" and self._fleet is not None:
            response = JSONResponse(await self._fleet.summary())
        elif path == "/openapi.json":
            response = JSONResponse(await self._merger.document())
        elif path == "/docs":
            response = HTMLResponse(_DOCS_PAGE)
        else:
            response = self.asset(path.rsplit("/", 1)[-1])
        await response(scope, receive, send)

    async def _unready(self, report: dict[str, Any]) -> list[str]:
        """Adds each upstream's state (and the supervisor's view) to ``report``; the reasons
        besides a dependency down: processes restarting after a crash."""
        checks = report.get("checks", {})
        report["upstreams"] = {
            name: checks.get(name, {}).get("status", "down") for name in self._upstreams
        }
        processes = read_status(self._supervisor_status)
        if processes is None:
            return []
        report["processes"] = processes
        looping = crash_looping(processes)
        return [f"Restarting after a crash: {', '.join(looping)}."] if looping else []

    def _probe_any(self, bases: Sequence[str]) -> Callable[[], Awaitable[None]]:
        """Ready when one replica is; otherwise the last replica's answer says why not."""
        probes = [self._probe(base) for base in bases]

        async def ready() -> None:
            for probe in probes[:-1]:
                with contextlib.suppress(Exception):
                    await probe()
                    return
            await probes[-1]()

        return ready

    def _probe(self, base: str) -> Callable[[], Awaitable[None]]:
        async def ready() -> None:
            async with self._session().get(f"{base}/readyz", timeout=self._probe_timeout) as r:
                if r.status != 200:
                    raise UpstreamNotReady(f"/readyz answered {r.status}: {await _detail(r)}")

        return ready

    def asset(self, name: str) -> Response:
        if name == "init.js":
            return Response(_INIT_JS, media_type="text/javascript")
        media_type = _ASSETS.get(name)
        if media_type is None:
            return answer(NO_ASSET)
        return FileResponse(
            self._assets / name, media_type=media_type, headers={"Cache-Control": "max-age=86400"}
        )


async def _detail(response: aiohttp.ClientResponse) -> str:
    """What an upstream said is wrong (its problem's ``detail``), briefly."""
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return "not ready"
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail or "not ready")[:200]
