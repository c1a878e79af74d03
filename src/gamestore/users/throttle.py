"""Login throttling, the OWASP way: progressive delays, no lockout anyone else can trigger.

A key (e.g. "this account from this client") may fail ``limit`` times within a sliding
``window``; after that each further attempt must wait for a delay that doubles with every
failure still in the window — 1 s, 2 s, 4 s… up to ``cap`` — counted from the last one. A
refused attempt is not counted and does not extend the wait. The users service keeps two
policies (``Sessions``): per account and client, counted *before* the password is checked (so
parallel guesses cannot slip past the limit while hashes run) and forgotten on success; and per
client across every account, counting failures only (password spraying). The owner logging in
from another client is not slowed by an attacker's failures.

Two adapters pass one contract suite: in-process (one users process) and Redis (several).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Protocol

Clock = Callable[[], float]
_SWEEP_ABOVE = 10_000


class LoginThrottle(Protocol):
    async def attempt(self, key: str) -> int | None:
        """Count one attempt; ``None`` if allowed, else whole seconds until one is."""
        ...

    async def check(self, key: str) -> int | None:
        """Like :meth:`attempt`, without counting it."""
        ...

    async def failed(self, key: str) -> None:
        """Count one failure that was not counted by :meth:`attempt`."""
        ...

    async def forget(self, key: str) -> None:
        """Clear the key's attempts (after a successful login)."""
        ...

    async def close(self) -> None: ...


def progressive_wait(count: int, last: float, now: float, limit: int, cap: float) -> float | None:
    """Seconds still to wait after ``count`` attempts in the window, the last at ``last``."""
    if count < limit:
        return None
    wait = last + min(cap, 2.0 ** (count - limit)) - now
    return wait if wait > 0 else None


def _seconds(wait: float | None) -> int | None:
    return None if wait is None else max(1, math.ceil(wait))


class InMemoryThrottle:
    """A deque of attempt times per key; fine for one process."""

    def __init__(
        self, limit: int, window: float, *, cap: float = 60.0, clock: Clock = time.time
    ) -> None:
        self._limit = limit
        self._window = window
        self._cap = cap
        self._clock = clock
        self._attempts: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = asyncio.Lock()

    async def attempt(self, key: str) -> int | None:
        return await self._count(key, record=True)

    async def check(self, key: str) -> int | None:
        return await self._count(key, record=False)

    async def failed(self, key: str) -> None:
        async with self._lock:
            self._attempts[key].append(self._clock())

    async def _count(self, key: str, *, record: bool) -> int | None:
        async with self._lock:
            now = self._clock()
            if len(self._attempts) > _SWEEP_ABOVE:
                self._sweep(now)
            times = self._attempts[key]
            while times and times[0] <= now - self._window:
                times.popleft()
            last = times[-1] if times else now
            wait = progressive_wait(len(times), last, now, self._limit, self._cap)
            if wait is None and record:
                times.append(now)
            return _seconds(wait)

    def _sweep(self, now: float) -> None:
        """Drop keys whose attempts all left the window (a spray of emails must not grow us)."""
        stale = [
            k for k, times in self._attempts.items() if not times or times[-1] <= now - self._window
        ]
        for key in stale:
            del self._attempts[key]

    async def forget(self, key: str) -> None:
        async with self._lock:
            self._attempts.pop(key, None)

    async def close(self) -> None:
        self._attempts.clear()


# One sorted set per key, scored by attempt time (ms); atomic, so parallel logins count right.
# ARGV: now, window, limit, member, cap (all ms but limit), record (1) or only check (0).
_ATTEMPT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cap = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  local wait = last + math.min(cap, 1000 * 2 ^ (count - limit)) - now
  if wait > 0 then return wait end
end
if ARGV[6] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return -1
"""


class RedisThrottle:
    """Shared by every users process; keys hold a hash of what they count, never an email."""

    def __init__(
        self,
        url: str,
        limit: int,
        window: float,
        *,
        cap: float = 60.0,
        prefix: str = "gamestore:login-attempts:",
        clock: Clock = time.time,
    ) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_ATTEMPT)
        self._limit = limit
        self._window_ms = int(window * 1000)
        self._cap_ms = int(cap * 1000)
        self._prefix = prefix
        self._clock = clock

    def _key(self, key: str) -> str:
        return self._prefix + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    async def attempt(self, key: str) -> int | None:
        return await self._count(key, record=True)

    async def check(self, key: str) -> int | None:
        return await self._count(key, record=False)

    async def failed(self, key: str) -> None:
        name = self._key(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {uuid.uuid4().hex: int(self._clock() * 1000)})
            pipe.pexpire(name, self._window_ms)
            await pipe.execute()

    async def _count(self, key: str, *, record: bool) -> int | None:
        now_ms = int(self._clock() * 1000)
        args: list[int | str] = [
            now_ms, self._window_ms, self._limit, uuid.uuid4().hex, self._cap_ms, int(record),
        ]  # fmt: skip
        wait_ms = float(await self._script(keys=[self._key(key)], args=args))
        return None if wait_ms < 0 else _seconds(wait_ms / 1000)

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def close(self) -> None:
        await self._redis.aclose()


def connect_throttle(
    redis_url: str | None, limit: int, window: float, *, cap: float = 60.0, name: str = "login"
) -> LoginThrottle:
    """Redis when a URL is configured, otherwise in-process; ``name`` keeps policies apart."""
    if redis_url:
        return RedisThrottle(
            redis_url, limit, window, cap=cap, prefix=f"gamestore:{name}-attempts:"
        )
    return InMemoryThrottle(limit, window, cap=cap)
