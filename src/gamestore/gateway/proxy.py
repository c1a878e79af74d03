"""The reverse proxy: one pooled aiohttp session, bodies streamed both ways.

Why aiohttp and not httpx: measured behind the same ASGI front, httpx's pool made the gateway
reach about a quarter of the upstream's direct throughput, aiohttp about nine tenths
(docs/adr/006-gateway.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from starlette.types import Receive, Scope, Send
from yarl import URL

from gamestore.gateway.upstreams import Upstreams
from gamestore.platform import tracing
from gamestore.platform.http.codes import define
from gamestore.platform.http.middleware import SECURITY_HEADERS
from gamestore.platform.http.problems import answer
from gamestore.platform.i18n import N_
from gamestore.platform.logs import correlation_id, get_logger

log = get_logger("gateway.proxy")
UPSTREAM_RETRY_AFTER = "1"  # seconds: a service the supervisor restarts answers again by then

# RFC 9110 §7.6.1 hop-by-hop headers, plus those the gateway sets itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_REQUEST_DROP = _HOP_BY_HOP | {
    "host", "x-request-id", "x-forwarded-proto", "x-forwarded-host", "traceparent", "tracestate"
}  # fmt: skip
_RESPONSE_DROP = frozenset(
    {n.encode() for n in _HOP_BY_HOP}
    | {b"date", b"server", b"x-request-id"}
    | {name for name, _ in SECURITY_HEADERS}
)


class Proxy:
    """Forwards an ASGI request to an upstream service and streams its answer back."""

    def __init__(
        self,
        upstreams: Upstreams,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        pool_size: int = 256,
        keepalive: float = 4.0,
    ) -> None:
        self._upstreams = upstreams
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_read=read_timeout
        )
        self._pool_size = pool_size
        # Below uvicorn's 5 s keep-alive: we drop an idle connection before the upstream does.
        self._keepalive = keepalive
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool (inside the running event loop)."""
        connector = aiohttp.TCPConnector(
            limit=self._pool_size, keepalive_timeout=self._keepalive, ttl_dns_cache=300
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the proxy is not started")
        return self._session

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the request to a replica of ``service``; answer 503/504/502 as problem+json
        if it fails. A replica that cannot be connected to has received nothing, so a body
        held in memory goes to the next one (a streamed body cannot be sent twice)."""
        replicas = self._upstreams.replicas(service)
        body = _RequestBody(receive)
        try:
            data = await body.payload()
        except ClientDisconnected:
            return
        tries = len(replicas) if data is None or isinstance(data, bytes) else 1
        for attempt in range(1, tries + 1):
            base = replicas.pick()
            started = False
            try:
                async with self.session.request(
                    scope["method"],
                    _target(base, scope),
                    headers=request_headers(scope),
                    data=data,
                    allow_redirects=False,
                ) as response:
                    started = True
                    await _relay(response, send)
                return
            except Exception as error:
                if body.client_left:
                    return
                body.reraise()  # a body that was too large (or a client that left) says so
                if started:
                    log.warning("upstream failed mid-response", service=service, error=repr(error))
                    raise
                if isinstance(error, _NOT_CONNECTED):
                    replicas.failed(base)
                    if attempt < tries:
                        continue
                await _failure(service, error)(scope, receive, send)
                return


_NOT_CONNECTED = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""Failures before a byte of the request left: safe to send it to another replica."""


def _target(base: str, scope: Scope) -> URL:
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    text = base + path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    return URL(text, encoded=True)  # as sent: no re-encoding, no dot-segment normalisation


def request_headers(scope: Scope) -> list[tuple[str, str]]:
    """The client's headers minus hop-by-hop ones, plus X-Forwarded-* and X-Request-ID."""
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    connection_named = {
        token.strip().lower()
        for name, value in raw
        if name == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    headers: list[tuple[str, str]] = []
    forwarded_for = ""
    host = ""
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1"), value_b.decode("latin-1")
        if name == "x-forwarded-for":
            forwarded_for = f"{forwarded_for}, {value}" if forwarded_for else value
        elif name == "host":
            host = value
        elif name not in _REQUEST_DROP and name not in connection_named:
            headers.append((name, value))
    client = scope.get("client")
    # uvicorn already took the client from X-Forwarded-For when a trusted proxy (by default
    # 127.0.0.1) sent it: then the chain ends with that client and is not extended twice.
    if client and not forwarded_for.endswith(client[0]):
        ip = client[0]
        forwarded_for = f"{forwarded_for}, {ip}" if forwarded_for else ip
    if forwarded_for:
        headers.append(("x-forwarded-for", forwarded_for))
    if host:
        headers.append(("x-forwarded-host", host))
    headers.append(("x-forwarded-proto", scope.get("scheme", "http")))
    headers.append(("x-request-id", correlation_id()))
    headers += tracing.headers(tracing.current_traceparent()).items()  # the gateway's span
    return headers


def response_headers(raw: Any) -> list[tuple[bytes, bytes]]:
    """The upstream's headers minus hop-by-hop ones and those the gateway sets itself."""
    named = {
        token.strip().lower().encode()
        for name, value in raw
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    return [
        (name.lower(), value)
        for name, value in raw
        if name.lower() not in _RESPONSE_DROP and name.lower() not in named
    ]


async def _relay(response: aiohttp.ClientResponse, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": response_headers(response.raw_headers),
        }
    )
    # Each chunk leaves as soon as it arrives; with a Content-Length the last one is known and
    # closes the response itself (one ASGI message fewer on the common small-JSON path).
    remaining = response.content_length
    while chunk := await response.content.readany():
        if remaining is not None:
            remaining -= len(chunk)
        more = remaining is None or remaining > 0
        await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            return
    await send({"type": "http.response.body", "body": b"", "more_body": False})


UPSTREAM_TIMEOUT = define(
    504, "upstream_timeout", N_("The %(service)s service did not answer in time.")
)
UPSTREAM_UNREACHABLE = define(
    503,
    "upstream_unavailable",
    N_("The %(service)s service is not reachable right now; retry shortly."),
)
UPSTREAM_INVALID = define(
    502, "upstream_invalid_answer", N_("The %(service)s service gave an invalid answer.")
)


def _failure(service: str, error: Exception) -> Any:
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        log.warning("upstream timed out", service=service)
        return answer(UPSTREAM_TIMEOUT, service=service)
    if isinstance(error, aiohttp.ClientConnectionError | OSError):
        log.warning("upstream unreachable", service=service, error=repr(error))
        return answer(
            UPSTREAM_UNREACHABLE, headers={"Retry-After": UPSTREAM_RETRY_AFTER}, service=service
        )
    log.warning("upstream answered badly", service=service, error=repr(error))
    return answer(UPSTREAM_INVALID, service=service)


class ClientDisconnected(Exception):
    """The client went away before sending its whole body."""


class _RequestBody:
    """The client's body for aiohttp: bytes when it came in one piece, else a stream.

    Whatever ``receive`` raises (the body limit's 413, a disconnect) is kept and re-raised
    after aiohttp gives up, so it wins over a misleading "upstream unreachable".
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._error: BaseException | None = None

    async def payload(self) -> bytes | AsyncIterator[bytes] | None:
        first = await self._next()
        if not first.get("more_body", False):
            return first.get("body", b"") or None
        return self._stream(first.get("body", b""))

    async def _next(self) -> Any:
        try:
            message = await self._receive()
        except BaseException as error:
            self._error = error
            raise
        if message["type"] == "http.disconnect":
            self._error = ClientDisconnected()
            raise self._error
        return message

    async def _stream(self, first: bytes) -> AsyncIterator[bytes]:
        if first:
            yield first
        more = True
        while more:
            message = await self._next()
            more = message.get("more_body", False)
            if message.get("body"):
                yield message["body"]

    @property
    def client_left(self) -> bool:
        return isinstance(self._error, ClientDisconnected)

    def reraise(self) -> None:
        if self._error is not None:
            raise self._error
