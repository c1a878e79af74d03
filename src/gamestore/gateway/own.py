"""The gateway's own endpoints: liveness, readiness, the merged OpenAPI document, the docs.

The docs page is Swagger UI served from the ``swagger-ui-bundle-v2`` package: no CDN, so it
works offline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import swagger_ui_bundle
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gamestore.gateway.openapi import OpenApiMerger
from gamestore.platform.http.problems import PROBLEM_JSON, problem_response
from gamestore.platform.supervisor_status import crash_looping, read_status

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


class OwnEndpoints:
    """An ASGI app for the gateway's own routes (the route table already checked the method)."""

    def __init__(
        self,
        merger: OpenApiMerger,
        upstreams: Mapping[str, str],
        session: Callable[[], aiohttp.ClientSession],
        *,
        probe_timeout: float = 1.0,
        supervisor_status: Path | None = None,
    ) -> None:
        self._merger = merger
        self._upstreams = dict(upstreams)
        self._session = session
        self._supervisor_status = supervisor_status
        self._probe_timeout = aiohttp.ClientTimeout(total=probe_timeout)
        self._assets = Path(str(swagger_ui_bundle.swagger_ui_path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path == "/healthz":
            response: Response = JSONResponse({"status": "alive"})
        elif path == "/readyz":
            response = await self.readiness()
        elif path == "/openapi.json":
            response = JSONResponse(await self._merger.document())
        elif path == "/docs":
            response = HTMLResponse(_DOCS_PAGE)
        else:
            response = self.asset(path.rsplit("/", 1)[-1])
        await response(scope, receive, send)

    async def readiness(self) -> Response:
        """200 when every upstream answers HTTP at all and, under ``gamestore up``, no process
        is waiting to be restarted after a crash; else 503 naming what is not ready."""
        names = list(self._upstreams)
        answers = await asyncio.gather(*(self._answers(self._upstreams[n]) for n in names))
        status = {name: "up" if ok else "down" for name, ok in zip(names, answers, strict=True)}
        report: dict[str, Any] = {"upstreams": status}
        down = [name for name, state in status.items() if state == "down"]
        problems = [f"Not reachable: {', '.join(down)}."] if down else []
        processes = read_status(self._supervisor_status)
        if processes is not None:
            report["processes"] = processes
            if looping := crash_looping(processes):
                problems.append(f"Restarting after a crash: {', '.join(looping)}.")
        if not problems:
            return JSONResponse({"status": "ready", **report})
        body = {"type": "about:blank", "title": "Service Unavailable", "status": 503}
        return JSONResponse(
            {**body, "detail": " ".join(problems), **report},
            status_code=503,
            media_type=PROBLEM_JSON,
        )

    async def _answers(self, base: str) -> bool:
        try:
            async with self._session().get(f"{base}/healthz", timeout=self._probe_timeout):
                return True  # any HTTP answer: the service is up, whatever it thinks of /healthz
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False

    def asset(self, name: str) -> Response:
        if name == "init.js":
            return Response(_INIT_JS, media_type="text/javascript")
        media_type = _ASSETS.get(name)
        if media_type is None:
            return problem_response(404, "No such documentation asset.")
        return FileResponse(
            self._assets / name, media_type=media_type, headers={"Cache-Control": "max-age=86400"}
        )
