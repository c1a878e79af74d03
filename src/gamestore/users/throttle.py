"""Login throttling: at most ``limit`` attempts per key (a normalized email) per sliding window.

The port counts an attempt *before* the password is checked and forgets the key on success,
so it counts failures, and parallel guesses cannot slip past the limit while hashes run. Two
adapters pass one contract suite: in-process (one users process) and Redis (several).
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

    async def forget(self, key: str) -> None:
        """Clear the key's attempts (after a successful login)."""
        ...

    async def close(self) -> None: ...


def _retry_after(oldest: float, window: float, now: float) -> int:
    return max(1, math.ceil(oldest + window - now))


class InMemoryThrottle:
    """A deque of attempt times per key; fine for one process."""

    def __init__(self, limit: int, window: float, *, clock: Clock = time.time) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._attempts: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = asyncio.Lock()

    async def attempt(self, key: str) -> int | None:
        async with self._lock:
            now = self._clock()
            if len(self._attempts) > _SWEEP_ABOVE:
                self._sweep(now)
            times = self._attempts[key]
            while times and times[0] <= now - self._window:
                times.popleft()
            if len(times) >= self._limit:
                return _retry_after(times[0], self._window, now)
            times.append(now)
            return None

    def _sweep(self, now: float) -> None:
        """Drop keys whose attempts all left the window (a spray of emails must not grow us)."""
        stale = [k for k, times in self._attempts.items() if times[-1] <= now - self._window]
        for key in stale:
            del self._attempts[key]

    async def forget(self, key: str) -> None:
        async with self._lock:
            self._attempts.pop(key, None)

    async def close(self) -> None:
        self._attempts.clear()


# One sorted set per key, scored by attempt time (ms); atomic, so parallel logins count right.
_ATTEMPT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class RedisThrottle:
    """Shared by every users process; keys hold a hash of the email, never the email."""

    def __init__(
        self,
        url: str,
        limit: int,
        window: float,
        *,
        prefix: str = "gamestore:login-attempts:",
        clock: Clock = time.time,
    ) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_ATTEMPT)
        self._limit = limit
        self._window_ms = int(window * 1000)
        self._prefix = prefix
        self._clock = clock

    def _key(self, key: str) -> str:
        return self._prefix + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    async def attempt(self, key: str) -> int | None:
        now_ms = int(self._clock() * 1000)
        args: list[int | str] = [now_ms, self._window_ms, self._limit, uuid.uuid4().hex]
        wait_ms = int(await self._script(keys=[self._key(key)], args=args))
        return None if wait_ms < 0 else max(1, math.ceil(wait_ms / 1000))

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def close(self) -> None:
        await self._redis.aclose()


def connect_throttle(redis_url: str | None, limit: int, window: float) -> LoginThrottle:
    """Redis when a URL is configured, otherwise in-process."""
    if redis_url:
        return RedisThrottle(redis_url, limit, window)
    return InMemoryThrottle(limit, window)
