"""``/healthz``, ``/readyz`` and ``/metrics``: what every process answers about itself.

:class:`OpsEndpoints` answers them in front of an HTTP service's app (on its service port,
before request logging: a probe every few seconds is not news) or alone, on a small listener of
its own, for a process without an API (:func:`serve_ops`). Bodies:

- ``/healthz``: 200 ``{"status": "alive", "loops": {...}}``; 503 when a loop is stalled.
- ``/readyz``: 200 ``{"status": "ready", "checks": {"database": {"status": "up", "ms": …}}}``;
  503 problem+json naming the dependencies that are down, with the same ``checks``.
- ``/metrics``: the Prometheus text exposition of the process's registry, sampled gauges
  refreshed first (``platform/metrics.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gamestore.platform import metrics
from gamestore.platform.health import HEALTH, Health
from gamestore.platform.http.problems import PROBLEM_JSON

Extra = Callable[[dict[str, Any]], Awaitable[list[str]]]
"""More reasons a process is not ready, beyond its dependencies (the gateway's crash loops);
it may add what it saw to the report it is given."""


class OpsEndpoints:
    """Answers the three ops paths; passes anything else to ``app`` (404 when there is none).

    ``metrics=False`` leaves ``/metrics`` to ``app`` (the gateway keeps its metrics off its
    public port)."""

    PATHS = ("/healthz", "/readyz", "/metrics")

    def __init__(
        self,
        app: ASGIApp | None = None,
        health: Health = HEALTH,
        *,
        metrics: bool = True,
        unready: Extra | None = None,
    ) -> None:
        self.app = app
        self.health = health
        self.unready = unready
        self.paths = self.PATHS if metrics else self.PATHS[:2]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths and scope["method"] == "GET":
            response = await self.answer(scope["path"])
        elif self.app is not None:
            return await self.app(scope, receive, send)
        elif scope["type"] == "lifespan":
            return await no_work_lifespan(receive, send)
        else:
            body = {"type": "about:blank", "title": "Not Found", "status": 404}
            body |= {"code": "not_found", "detail": "Not Found"}
            response = JSONResponse(body, status_code=404, media_type=PROBLEM_JSON)
        await response(scope, receive, send)

    async def answer(self, path: str) -> Response:
        if path == "/healthz":
            alive, report = self.health.alive()
            return _report(alive, report, "loop_stalled", "A loop of this process is stuck.")
        if path == "/readyz":
            return await self.readiness()
        # liveness and readiness feed gamestore_loop_stalled and gamestore_dependency_up:
        # fresh at every scrape, so alerts see an engine go away without anyone asking /readyz
        self.health.alive()
        await asyncio.gather(self.health.ready(), metrics.sample())
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def readiness(self) -> Response:
        ready, report = await self.health.ready()
        reasons = [f"Not ready: {', '.join(report['down'])}."] if not ready else []
        if self.unready is not None:
            reasons += await self.unready(report)
        return _report(not reasons, report, "not_ready", " ".join(reasons))


def _report(ok: bool, report: dict[str, Any], code: str, detail: str) -> Response:
    """The probe's report; a problem when not ok. Probes answer operators and orchestrators,
    so their ``detail`` stays in English whatever the request asks for."""
    if ok:
        return JSONResponse(report, headers={"Cache-Control": "no-store"})
    body = {"type": "about:blank", "title": "Service Unavailable", "status": 503, "code": code}
    return JSONResponse(
        {**report, **body, "detail": detail},  # a problem's "status" is its HTTP status
        status_code=503,
        media_type=PROBLEM_JSON,
        headers={"Cache-Control": "no-store"},
    )


async def no_work_lifespan(receive: Receive, send: Send) -> None:
    """The ASGI lifespan of an app with nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            return await send({"type": "lifespan.shutdown.complete"})


async def serve_ops(url: str, stop: asyncio.Event, app: ASGIApp | None = None) -> None:
    """Serve the ops endpoints at ``url``'s host and port until ``stop``."""
    from urllib.parse import urlsplit

    from gamestore.platform.http import serve

    address = urlsplit(url)
    if address.port is None:
        raise ValueError(f"the ops address needs a port: {url!r}")
    await serve(app or OpsEndpoints(), address.hostname or "127.0.0.1", address.port, stop)
