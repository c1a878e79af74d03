"""Pure ASGI middleware: request ids (the correlation id), the language, body size limit,
security headers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gamestore.platform.http.codes import BODY_TOO_LARGE
from gamestore.platform.i18n import negotiate, translate, use_language
from gamestore.platform.logs import correlation, get_logger
from gamestore.platform.metrics import HTTP_REQUEST_DURATION, status_class
from gamestore.platform.tracing import name_span

REQUEST_ID = "x-request-id"
MAX_BODY = 1024 * 1024  # 1 MiB (CONTRACT.md)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
log = get_logger("http")


# the method label's values: any other method a client sends is counted as "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The route a request matched, as its template (``/jogos/{game_id}``), for metric labels:
    a raw path would make a series per id. ``unmatched`` when no route took it."""
    template = scope.get("route_template")
    if template is None:
        template = getattr(scope.get("route"), "path", None)
    return str(template) if template else "unmatched"


_timers: dict[tuple[str, str, int], Any] = {}  # the histogram's children, by their labels


def _timer(scope: Scope, status: int) -> Any:
    """The request-duration histogram's child for this request's labels (looked up once per
    label set: ``labels()`` costs as much as the observation itself)."""
    method = scope["method"] if scope["method"] in METHODS else "other"
    key = (route_template(scope), method, status // 100)
    name_span(method, key[0])
    timer = _timers.get(key)
    if timer is None:
        timer = _timers[key] = HTTP_REQUEST_DURATION.labels(key[0], method, status_class(status))
    return timer


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's ``X-Request-ID`` when it is sane, otherwise a new one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID.encode():
            candidate = value.decode("latin-1")
            if _SANE_ID.match(candidate):
                return candidate
    return str(uuid.uuid4())


class RequestContextMiddleware:
    """Carries the request id as the correlation id and echoes it on the response."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        with correlation(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                _timer(scope, status).observe(elapsed)
                if self.access_log:
                    log.info(
                        "request",
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        ms=round(elapsed * 1000, 1),
                    )


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (``name`` in lower case)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class LanguageMiddleware:
    """Sets the request's language from ``Accept-Language`` (pt-BR when it names none we
    speak) for everything inside: problems' ``detail`` and fields' ``msg`` use it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with use_language(negotiate(header(scope, b"accept-language"))):
            await self.app(scope, receive, send)


@dataclass(frozen=True, slots=True)
class LargerBody:
    """A route allowed a body over the default limit: ``method`` on paths matching ``path``
    (a regular expression matched whole) may send up to ``limit`` bytes."""

    method: str
    path: re.Pattern[str]
    limit: int


class BodyLimitMiddleware:
    """Refuses bodies over ``limit`` bytes with 413, by header or while streaming; the routes
    in ``larger`` have limits of their own (an image upload is more than a JSON document).

    Before answering it reads and discards what the client is still sending (up to
    ``DRAIN_LIMIT``): closing on a client mid-upload makes its TCP stack reset the connection,
    which can destroy the 413 before the client reads it.
    """

    def __init__(
        self, app: ASGIApp, *, limit: int = MAX_BODY, larger: Iterable[LargerBody] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = tuple(larger)

    def limit_for(self, scope: Scope) -> int:
        """The body limit of this request's route."""
        for allowance in self.larger:
            if scope["method"] == allowance.method and allowance.path.fullmatch(scope["path"]):
                return allowance.limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _drain(receive)
                await _too_large(send, limit)
                return
        received = 0
        overflowed = finished = started = False

        async def counting_receive() -> Message:
            nonlocal received, overflowed, finished
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                finished = not message.get("more_body", False)
                if received > limit:
                    overflowed = True
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if overflowed and not finished:
                    await _drain(receive)
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                if not finished:
                    await _drain(receive)
                await _too_large(send, limit)


DRAIN_LIMIT = 64 * 1024 * 1024  # bytes read and dropped from a refused upload, at most
DRAIN_SECONDS = 5.0  # ... and for at most this long: a slow sender gets the 413 regardless


async def _drain(receive: Receive) -> None:
    drained = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_SECONDS):
            while drained <= DRAIN_LIMIT:
                message = await receive()
                if message["type"] != "http.request":
                    return
                drained += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


class _BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing lets it through to the 413 handler
    instead of turning it into "400 error parsing the body"."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, BODY_TOO_LARGE.detail)
        self.params = {"limit": limit}


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "code": BODY_TOO_LARGE.code,
            "detail": translate(BODY_TOO_LARGE.detail, {"limit": limit}),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
