"""The gateway as a raw ASGI app: route, limit, authorize, proxy.

No framework routing on the hot path: the route table decides in one dictionary lookup and one
regex, the token check is cached, and the request goes straight to the pooled proxy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gamestore.gateway.access import CachingVerifier, Denied, caller
from gamestore.gateway.proxy import Proxy
from gamestore.gateway.ratelimit import Limit, RateLimiter, retry_after
from gamestore.gateway.routes import GATEWAY, Access, MethodNotAllowed, NotFound, RouteTable
from gamestore.gateway.static import is_site_path
from gamestore.platform.http.codes import METHOD_NOT_ALLOWED, NOT_FOUND, TOO_MANY_REQUESTS
from gamestore.platform.http.problems import answer
from gamestore.platform.logs import get_logger
from gamestore.platform.metrics import RATE_LIMITED

log = get_logger("gateway")


@dataclass(frozen=True, slots=True)
class Limits:
    """Token buckets: one per client address, one per signed-in user."""

    client: Limit
    user: Limit


class Gateway:
    """Routes each request through the table, the rate limits and the access rule."""

    def __init__(
        self,
        table: RouteTable,
        proxy: Proxy,
        verifier: CachingVerifier,
        limiter: RateLimiter,
        limits: Limits,
        own: ASGIApp,
        *,
        on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
        site: ASGIApp | None = None,
        ops: ASGIApp | None = None,
    ) -> None:
        self.table = table
        self.proxy = proxy
        self.verifier = verifier
        self.limiter = limiter
        self.limits = limits
        self.own = own
        self.site = site
        self.ops = ops  # /healthz, /readyz and /metrics for the ops port
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request, from route lookup to the upstream's answer."""
        found = self.table.match(scope["method"], scope["path"])
        if isinstance(found, NotFound):
            if self.site is not None and is_site_path(scope["path"]):
                scope["route_template"] = "(web app)"
                await self.site(scope, receive, send)  # the web app's page and files
                return
            await answer(NOT_FOUND)(scope, receive, send)
            return
        if isinstance(found, MethodNotAllowed):
            allow = {"Allow": ", ".join(found.allow)}
            await answer(METHOD_NOT_ALLOWED, headers=allow)(scope, receive, send)
            return
        scope["route_template"] = found.pattern
        client = scope.get("client")
        wait = await self._take("ip:" + (client[0] if client else "-"), self.limits.client)
        if wait:
            await _too_many("client", wait, scope, receive, send)
            return
        if found.service == GATEWAY and found.access is Access.PUBLIC:
            await self.own(scope, receive, send)
            return
        who = await caller(found.access, _header(scope, b"authorization"), self.verifier)
        if isinstance(who, Denied):
            await answer(who.problem, headers=who.headers)(scope, receive, send)
            return
        if who is not None and (wait := await self._take("user:" + who.user_id, self.limits.user)):
            await _too_many("user", wait, scope, receive, send)
            return
        if found.service == GATEWAY:  # the gateway's own admin routes
            await self.own(scope, receive, send)
            return
        await self.proxy.forward(found.service, scope, receive, send)

    async def _take(self, key: str, limit: Limit) -> float:
        if not limit.enabled:
            return 0.0
        try:
            return await self.limiter.take(key, limit)
        except Exception as error:  # the limiter's store is down: fail open, loudly
            log.warning("rate limiter unavailable", error=repr(error))
            return 0.0

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _run_phase(self._on_startup, "startup", send)
            elif message["type"] == "lifespan.shutdown":
                await _run_phase(self._on_shutdown, "shutdown", send)
                return


async def _run_phase(
    steps: Sequence[Callable[[], Awaitable[None]]], phase: str, send: Send
) -> None:
    try:
        for step in steps:
            await step()
    except Exception as error:
        log.exception(f"gateway {phase} failed")
        await send({"type": f"lifespan.{phase}.failed", "message": repr(error)})
        return
    await send({"type": f"lifespan.{phase}.complete"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _too_many(bucket: str, wait: float, scope: Scope, receive: Receive, send: Send) -> None:
    RATE_LIMITED.labels(bucket).inc()
    headers = {"Retry-After": retry_after(wait)}
    await answer(TOO_MANY_REQUESTS, headers=headers)(scope, receive, send)


class ContentSecurityPolicy:
    """Adds a Content-Security-Policy to responses that do not set their own."""

    API = b"default-src 'none'; frame-ancestors 'none'"
    DOCS = (
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"frame-ancestors 'none'"
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.DOCS if scope["path"].startswith("/docs") else self.API

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_policy)
