"""The rate limiter port: one contract over both adapters, then 429s through the gateway."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from gamestore.gateway.ratelimit import InProcessRateLimiter, Limit, RateLimiter
from gamestore.gateway.ratelimit_redis import RedisRateLimiter
from tests.integration.gateway.conftest import Keys, StartGateway, problem


@pytest.fixture(params=["in-process", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    """Each adapter in turn; Redis buckets live under a prefix unique to the test."""
    if request.param == "in-process":
        yield InProcessRateLimiter()
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"gamestore-test:{uuid.uuid4().hex}:"
    redis_limiter = RedisRateLimiter(url, prefix=prefix)
    try:
        yield redis_limiter
    finally:
        import redis.asyncio as redis

        client = redis.Redis.from_url(url)
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        await redis_limiter.close()


async def test_burst_then_refused_with_a_wait(limiter: RateLimiter) -> None:
    limit = Limit(rate=1.0, burst=3)
    waits = [await limiter.take("a", limit) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 0.5 < waits[3] <= 1.0


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    limit = Limit(rate=0.01, burst=1)
    assert await limiter.take("one", limit) == 0.0
    assert await limiter.take("one", limit) > 0
    assert await limiter.take("two", limit) == 0.0


async def test_tokens_come_back_at_the_rate(limiter: RateLimiter) -> None:
    limit = Limit(rate=20.0, burst=1)
    assert await limiter.take("r", limit) == 0.0
    wait = await limiter.take("r", limit)
    assert 0 < wait <= 0.05
    deadline = time.monotonic() + 2
    while (wait := await limiter.take("r", limit)) > 0:
        assert time.monotonic() < deadline, "no token came back"
        await asyncio.sleep(wait)


async def test_concurrent_takes_never_exceed_the_burst(limiter: RateLimiter) -> None:
    limit = Limit(rate=0.001, burst=10)
    waits = await asyncio.gather(*(limiter.take("c", limit) for _ in range(50)))
    assert sum(1 for w in waits if w == 0.0) == 10


async def test_client_limit_answers_429_with_retry_after(
    start_gateway: StartGateway, limiter: RateLimiter
) -> None:
    async with start_gateway(
        limiter=limiter, gateway_client_rate=0.5, gateway_client_burst=3
    ) as client:
        statuses = [(await client.get("/jogos")).status_code for _ in range(3)]
        refused = await client.get("/jogos")
    assert statuses == [200, 200, 200]
    problem(refused, 429)
    assert refused.headers["retry-after"] == "2"


async def test_user_limit_is_per_user(
    start_gateway: StartGateway, limiter: RateLimiter, keys: Keys
) -> None:
    alice = {"Authorization": f"Bearer {keys.token(sub='alice')}"}
    bob = {"Authorization": f"Bearer {keys.token(sub='bob')}"}
    async with start_gateway(
        limiter=limiter, gateway_user_rate=0.1, gateway_user_burst=2
    ) as client:
        assert [(await client.get("/users/me", headers=alice)).status_code for _ in range(2)] == [
            200,
            200,
        ]
        refused = await client.get("/users/me", headers=alice)
        other = await client.get("/users/me", headers=bob)
    problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert other.status_code == 200
