"""Transient or permanent: the one rule every consumer, relay and client applies to a failure.

An *outage* is the infrastructure's: a database that is unreachable or shutting down, a broker
whose channel closed, a PSP answering 5xx/429 or not at all. Retrying later helps, so it is never
an *attempt* of a message: the consumer pauses, retries with capped exponential backoff and
jitter for as long as the outage lasts, and holds its position (no checkpoint, no ack, no dead
letter). Any other error would fail again on a healthy system (a handler bug, a malformed event,
a card declined): those count toward ``max_attempts`` and end in a dead letter.

    >>> is_transient(ConnectionRefusedError(111, "Connect call failed"))
    True
    >>> result = await until_available(lambda: store.head(), stop=stop, what="event store")

Driver errors are recognised by class without importing the drivers: a library that is not
loaded (``sys.modules``) cannot have raised.
"""

from __future__ import annotations

import asyncio
import errno
import random
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from gamestore.platform.logs import get_logger
from gamestore.platform.waiting import wait_event

T = TypeVar("T")
log = get_logger("faults")

_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
        errno.EAGAIN,
    }
)
# SQLSTATE classes and codes that mean "the server cannot serve now", not "this is wrong":
# 08 connection exception, 53 insufficient resources, 57P01-57P03 shutdown/starting up,
# 40001 serialization failure, 40P01 deadlock (both: retrying the transaction succeeds).
_SQLSTATE_CLASSES = ("08", "53")
_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01"})
_SQLITE_TRANSIENT = ("database is locked", "unable to open database file", "disk i/o error")
_HTTP_TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})


class TransientError(Exception):
    """A dependency cannot do its part now; the same call later can succeed.

    Raise it (or a subclass) from an adapter that knows it met an outage the generic rules
    below cannot see, e.g. an HTTP 503. ``retry_after`` is how long the dependency asked us
    to wait, in seconds, when it said so.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Stopped(Exception):
    """The stop event was set while waiting for a dependency to come back."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and contexts, and SQLAlchemy's wrapped driver error (``orig``)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending += [current.__cause__, current.__context__]
        if isinstance(orig, BaseException):
            pending.append(orig)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is an outage of some dependency (see the module docstring)."""
    return any(_transient_itself(each) for each in _chain(error))


def retry_after_of(error: BaseException) -> float | None:
    """The wait a dependency asked for (``TransientError.retry_after``), if any."""
    for each in _chain(error):
        if isinstance(each, TransientError) and each.retry_after is not None:
            return each.retry_after
    return None


def _transient_itself(error: BaseException) -> bool:
    if isinstance(error, TransientError | TimeoutError | ConnectionError):
        return True
    if isinstance(error, OSError):
        return error.errno in _NETWORK_ERRNOS or "Connect call failed" in str(error)
    if isinstance(error, sqlite3.OperationalError):
        return str(error).lower().startswith(_SQLITE_TRANSIENT)
    return any(check(error) for check in _DRIVER_CHECKS)


def _module(name: str) -> Any:
    return sys.modules.get(name)


def _asyncpg(error: BaseException) -> bool:
    asyncpg = _module("asyncpg")
    if asyncpg is None:
        return False
    if isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        return state[:2] in _SQLSTATE_CLASSES or state in _SQLSTATES
    if isinstance(error, asyncpg.InterfaceError):
        text = str(error)
        return "connection is closed" in text or "connection was closed" in text
    # Seen when the server shuts down while the pool resets a connection it hands back
    # ("cannot switch to state 15; another operation is in progress"): the connection is gone.
    return isinstance(error, asyncpg.exceptions.InternalClientError)


def _sqlalchemy(error: BaseException) -> bool:
    exc = _module("sqlalchemy.exc")
    if exc is None:
        return False
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, exc.TimeoutError)  # no pooled connection came free in time


def _amqp(error: BaseException) -> bool:
    aiormq = _module("aiormq.exceptions")
    if aiormq is None:
        return False
    refused = (
        aiormq.ChannelAccessRefused,
        aiormq.ChannelPreconditionFailed,
        aiormq.ChannelNotFoundEntity,
    )
    if isinstance(error, refused):
        return False  # the broker says our request is wrong, not that it is away
    return isinstance(
        error,
        aiormq.AMQPConnectionError
        | aiormq.ChannelInvalidStateError
        | aiormq.ChannelClosed
        | aiormq.ConnectionClosed
        | aiormq.DeliveryError,
    )


def _aiohttp(error: BaseException) -> bool:
    aiohttp = _module("aiohttp")
    return aiohttp is not None and isinstance(error, aiohttp.ClientConnectionError)


def _redis(error: BaseException) -> bool:
    redis = _module("redis.exceptions")
    return redis is not None and isinstance(error, redis.ConnectionError | redis.TimeoutError)


def _elasticsearch(error: BaseException) -> bool:
    transport = _module("elastic_transport")
    if transport is None:
        return False
    if isinstance(error, transport.ConnectionError | transport.ConnectionTimeout):
        return True
    status = getattr(getattr(error, "meta", None), "status", None)
    return isinstance(error, transport.ApiError) and status in _HTTP_TRANSIENT


_DRIVER_CHECKS: tuple[Callable[[BaseException], bool], ...] = (
    _asyncpg,
    _sqlalchemy,
    _amqp,
    _aiohttp,
    _redis,
    _elasticsearch,
)


@dataclass(frozen=True, slots=True)
class Pause:
    """The wait before trying a dependency again: exponential from ``first`` up to ``cap``,
    with jitter (half to all of it). A ``retry_after`` the dependency gave is honoured, up to
    ``longest`` seconds."""

    first: float = 0.1
    cap: float = 5.0
    longest: float = 300.0

    def delay(self, tries: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failure number ``tries`` (1 for the first) of an outage."""
        ceiling = min(self.cap, self.first * 2 ** max(tries - 1, 0))
        # Retry jitter, not a secret: the standard generator is the right one.
        wait = random.uniform(ceiling / 2, ceiling)  # nosec B311
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.longest))
        return wait


DEFAULT_PAUSE = Pause()


class OutageLog:
    """Logs an outage once when it starts, every ``every`` seconds while it lasts, and once
    when it ends: a consumer retrying ten times a second does not flood the log."""

    def __init__(self, what: str, *, every: float = 30.0, **fields: Any) -> None:
        self.what = what
        self.fields = fields
        self.every = every
        self.tries = 0
        self.since: float | None = None
        self._logged_at = 0.0
        self._failed_at = 0.0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def quiet_for(self) -> float:
        """Seconds since the last failure."""
        return time.monotonic() - self._failed_at

    def failed(self, error: BaseException) -> None:
        now = self._failed_at = time.monotonic()
        self.tries += 1
        text = f"{type(error).__name__}: {error}"[:500]
        if self.since is None:
            self.since = self._logged_at = now
            log.warning(f"{self.what} unavailable; pausing", error=text, **self.fields)
        elif now - self._logged_at >= self.every:
            self._logged_at = now
            seconds = round(now - self.since, 1)
            log.warning(
                f"{self.what} still unavailable", seconds=seconds, tries=self.tries, error=text,
                **self.fields,
            )  # fmt: skip

    def recovered(self) -> None:
        if self.since is not None:
            seconds = round(time.monotonic() - self.since, 1)
            log.info(f"{self.what} available again", seconds=seconds, **self.fields)
        self.since, self.tries = None, 0


async def until_available(
    operation: Callable[[], Awaitable[T]],
    *,
    stop: asyncio.Event,
    what: str,
    pause: Pause = DEFAULT_PAUSE,
    **fields: Any,
) -> T:
    """``operation()``'s result, retried through outages (transient errors) until it succeeds.

    A permanent error propagates at once; :class:`Stopped` is raised when ``stop`` is set
    while waiting out an outage."""
    outage = OutageLog(what, **fields)
    while True:
        try:
            result = await operation()
        except Exception as error:
            if not is_transient(error):
                raise
            outage.failed(error)
            if await wait_event(stop, pause.delay(outage.tries, retry_after_of(error))):
                raise Stopped(what) from error
            continue
        outage.recovered()
        return result


async def run_through_outages(
    body: Callable[[], Awaitable[None]],
    *,
    stop: asyncio.Event,
    outage: OutageLog,
    pause: Pause = DEFAULT_PAUSE,
    transient: Callable[[BaseException], bool] = is_transient,
) -> None:
    """Run ``body`` again and again until ``stop`` is set: a long-running loop (a consumer, a
    relay) that an outage interrupts resumes after a pause; a permanent error propagates.
    ``body`` calls ``outage.recovered()`` once it got going again."""
    while not stop.is_set():
        try:
            await body()
        except Stopped:
            return
        except Exception as error:
            if not transient(error):
                raise
            outage.failed(error)
            await wait_event(stop, pause.delay(outage.tries, retry_after_of(error)))
