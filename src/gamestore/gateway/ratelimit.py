"""Rate limiting: a token bucket per key (a client IP, a user id).

The port is :class:`RateLimiter`; :class:`InProcessRateLimiter` keeps buckets in this process
(one gateway), :class:`gamestore.gateway.ratelimit_redis.RedisRateLimiter` shares them between
gateways through Redis. Both pass the same contract suite.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """``rate`` tokens per second, at most ``burst`` saved up; a rate of 0 disables the limit."""

    rate: float
    burst: int

    @property
    def enabled(self) -> bool:
        return self.rate > 0 and self.burst > 0


class RateLimiter(Protocol):
    async def take(self, key: str, limit: Limit) -> float:
        """Take one token from ``key``'s bucket: 0.0 when granted, else the seconds to wait."""
        ...

    async def close(self) -> None:
        """Release connections (no-op in process)."""
        ...


def retry_after(wait: float) -> str:
    """The ``Retry-After`` value for a wait in seconds (whole seconds, at least 1)."""
    return str(max(1, math.ceil(wait)))


class InProcessRateLimiter:
    """Buckets in a dict; full buckets are forgotten when the dict grows past ``max_keys``."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._max_keys = max_keys
        self._clock = clock

    async def take(self, key: str, limit: Limit) -> float:
        now = self._clock()
        tokens, updated = self._buckets.get(key, (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - updated) * limit.rate)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now, limit)
            return 0.0
        self._store(key, tokens, now, limit)
        return (1.0 - tokens) / limit.rate

    def _store(self, key: str, tokens: float, now: float, limit: Limit) -> None:
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            self._forget_full(now, limit)

    def _forget_full(self, now: float, limit: Limit) -> None:
        # A full bucket holds no information: dropping it changes no decision.
        full = [
            k
            for k, (tokens, updated) in self._buckets.items()
            if tokens + (now - updated) * limit.rate >= limit.burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) > self._max_keys:  # still too many: forget the oldest half
            for k in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[k]

    async def close(self) -> None:
        return None
