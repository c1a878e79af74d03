"""The gateway's composition root and process main."""

from __future__ import annotations

import asyncio

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from gamestore import processes
from gamestore.gateway.access import CachingVerifier
from gamestore.gateway.app import ContentSecurityPolicy, Gateway, Limits
from gamestore.gateway.openapi import OpenApiMerger, fetcher
from gamestore.gateway.own import OwnEndpoints
from gamestore.gateway.proxy import Proxy
from gamestore.gateway.ratelimit import InProcessRateLimiter, Limit, RateLimiter
from gamestore.gateway.routes import COVER_UPLOAD, TABLE, RouteTable
from gamestore.gateway.static import StaticSite
from gamestore.gateway.upstreams import Upstreams
from gamestore.platform import tracing
from gamestore.platform.auth import users_jwks_verifier
from gamestore.platform.config import Settings, service_url, service_urls
from gamestore.platform.fleet import Watcher
from gamestore.platform.http import serve
from gamestore.platform.http.middleware import (
    BodyLimitMiddleware,
    LanguageMiddleware,
    RequestContextMiddleware,
)
from gamestore.platform.http.ops import serve_ops
from gamestore.platform.logs import get_logger
from gamestore.platform.revocation import RevocationFeed

log = get_logger("gateway")
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-ID"]
CORS_EXPOSED = ["X-Request-ID", "ETag", "Location", "Retry-After"]


def deployed_services(table: RouteTable) -> list[str]:
    """The upstreams ``/readyz`` waits for: those registered as processes of this deployment.

    A service the table already routes to but that is not built yet does not hold readiness
    back; its routes answer 503 until it runs.
    """
    from gamestore.processes import PROCESSES

    return [service for service in table.services() if service in PROCESSES]


def limiter_for(settings: Settings) -> RateLimiter:
    """Redis buckets when ``GAMESTORE_REDIS_URL`` is set (shared by gateways), else in-process."""
    if settings.redis_url:
        from gamestore.gateway.ratelimit_redis import RedisRateLimiter

        return RedisRateLimiter(settings.redis_url)
    return InProcessRateLimiter()


def build_gateway(
    settings: Settings,
    table: RouteTable = TABLE,
    *,
    limiter: RateLimiter | None = None,
    readiness: list[str] | None = None,
) -> Gateway:
    """The gateway app (without the outer middleware); nothing connects before startup.

    ``limiter`` defaults to the one the settings choose, ``readiness`` (the upstreams
    ``/readyz`` checks) to the deployed services.
    """
    replicas = {name: service_urls(name) for name in table.services()}
    upstreams = Upstreams(replicas)
    proxy = Proxy(
        upstreams,
        connect_timeout=settings.gateway_connect_timeout,
        read_timeout=settings.gateway_upstream_timeout,
    )
    merger = OpenApiMerger(
        table,
        upstreams,
        fetcher(lambda: proxy.session),
        ttl=settings.gateway_openapi_ttl,
    )
    ready_names = deployed_services(table) if readiness is None else readiness
    ready = {name: replicas[name] for name in ready_names}
    status = settings.supervisor_status  # set by `gamestore up` for its processes
    own = OwnEndpoints(
        merger, ready, lambda: proxy.session, supervisor_status=status,
        fleet=Watcher(processes.deployment(settings), status),
    )  # fmt: skip
    limiter = limiter or limiter_for(settings)
    revoked = RevocationFeed(settings.event_store_url)
    limits = Limits(
        client=Limit(settings.gateway_client_rate, settings.gateway_client_burst),
        user=Limit(settings.gateway_user_rate, settings.gateway_user_burst),
    )
    return Gateway(
        table,
        proxy,
        CachingVerifier(users_jwks_verifier(revoked.revocations)),
        limiter,
        limits,
        own,
        on_startup=[proxy.start, revoked.start, own.start],
        on_shutdown=[own.close, proxy.close, limiter.close, revoked.close],
        site=StaticSite(),
        ops=own.ops,
    )


def build_app(settings: Settings, gateway: Gateway | None = None) -> ASGIApp:
    """The full ASGI app: request ids and security headers, the language (``Accept-Language``
    is also passed on to the services), body limit, CORS, the gateway."""
    app: ASGIApp = gateway or build_gateway(settings)
    if settings.gateway_cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=settings.gateway_cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            max_age=600,
        )
    app = ContentSecurityPolicy(app)
    app = LanguageMiddleware(BodyLimitMiddleware(app, larger=[COVER_UPLOAD]))
    return tracing.traced(RequestContextMiddleware(app))


async def main(settings: Settings, stop: asyncio.Event) -> None:
    """Serve the gateway on ``settings.host:settings.port`` until ``stop`` is set, and its
    health, readiness and metrics on its ops port (``GAMESTORE_GATEWAY_OPS_URL``)."""
    log.info("gateway starting", host=settings.host, port=settings.port)
    gateway = build_gateway(settings)
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(serve_ops(service_url("gateway-ops"), stop, gateway.ops))
        await serve(build_app(settings, gateway), settings.host, settings.port, stop)
