"""One contract for the login-throttle port, run against both adapters (in-process, Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from gamestore.users.throttle import InMemoryThrottle, LoginThrottle, RedisThrottle

LIMIT, WINDOW = 5, 900.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "redis"])
async def throttle(
    request: pytest.FixtureRequest, clock: Clock, unique: str
) -> AsyncIterator[LoginThrottle]:
    if request.param == "memory":
        yield InMemoryThrottle(LIMIT, WINDOW, clock=clock)
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{unique}:"
    adapter = RedisThrottle(url, LIMIT, WINDOW, prefix=prefix, clock=clock)
    try:
        yield adapter
    finally:
        await adapter.close()
        cleanup = redis.Redis.from_url(url)
        keys = [key async for key in cleanup.scan_iter(match=f"{prefix}*")]
        if keys:
            await cleanup.delete(*keys)
        await cleanup.aclose()


async def test_the_limit_is_allowed_then_refused_with_the_wait(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for n in range(LIMIT):
        clock.now += 10
        assert await throttle.attempt("a@example.com") is None, n

    wait = await throttle.attempt("a@example.com")

    assert wait == WINDOW - 40  # the oldest attempt leaves the window in 860 s


async def test_the_window_slides(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(LIMIT):
        await throttle.attempt("a@example.com")
        clock.now += 1
    assert await throttle.attempt("a@example.com") is not None

    clock.now += WINDOW - LIMIT + 0.5  # the first attempt has just left the window

    assert await throttle.attempt("a@example.com") is None
    assert await throttle.attempt("a@example.com") is not None


async def test_a_refused_attempt_does_not_extend_the_wait(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(LIMIT):
        await throttle.attempt("a@example.com")
    for _ in range(20):
        clock.now += 1
        await throttle.attempt("a@example.com")

    clock.now += WINDOW - 20

    assert await throttle.attempt("a@example.com") is None


async def test_the_wait_is_at_least_one_second(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(LIMIT):
        await throttle.attempt("a@example.com")

    clock.now += WINDOW - 0.001

    assert await throttle.attempt("a@example.com") == 1


async def test_forget_clears_and_keys_are_independent(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(LIMIT):
        await throttle.attempt("a@example.com")
        await throttle.attempt("b@example.com")

    await throttle.forget("a@example.com")

    assert await throttle.attempt("a@example.com") is None
    assert await throttle.attempt("b@example.com") is not None
    assert await throttle.attempt("c@example.com") is None


async def test_parallel_attempts_never_exceed_the_limit(throttle: LoginThrottle) -> None:
    results = await asyncio.gather(*(throttle.attempt("a@example.com") for _ in range(50)))

    assert sum(result is None for result in results) == LIMIT
