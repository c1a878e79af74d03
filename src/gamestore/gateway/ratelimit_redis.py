"""The Redis rate limiter: one Lua script per decision, so concurrent gateways never race."""

from __future__ import annotations

from typing import Any

from gamestore.gateway.ratelimit import Limit

# Time comes from the Redis server, so gateways with skewed clocks still share one bucket.
# Milliseconds keep full precision in Lua's doubles; the reply is a string because Redis
# truncates Lua numbers to integers.
_TAKE = """
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
return tostring(wait / 1000)
"""


class RedisRateLimiter:
    """Buckets as Redis hashes under ``prefix``; they expire once they would be full again."""

    def __init__(self, url: str, *, prefix: str = "gamestore:ratelimit:") -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_TAKE)
        self._prefix = prefix

    async def take(self, key: str, limit: Limit) -> float:
        wait = await self._script(keys=[self._prefix + key], args=[limit.rate, limit.burst])
        return float(wait)

    async def close(self) -> None:
        await self._redis.aclose()
