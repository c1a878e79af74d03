"""One contract for the login-throttle port, run against both adapters (in-process, Redis):
progressive delays after the free failures, a sliding window, nothing counted while refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from gamestore.users.throttle import InMemoryThrottle, LoginThrottle, RedisThrottle

LIMIT, WINDOW, CAP = 5, 900.0, 60.0


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
        yield InMemoryThrottle(LIMIT, WINDOW, cap=CAP, clock=clock)
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{unique}:"
    adapter = RedisThrottle(url, LIMIT, WINDOW, cap=CAP, prefix=prefix, clock=clock)
    try:
        yield adapter
    finally:
        await adapter.close()
        cleanup = redis.Redis.from_url(url)
        keys = [key async for key in cleanup.scan_iter(match=f"{prefix}*")]
        if keys:
            await cleanup.delete(*keys)
        await cleanup.aclose()


async def test_the_limit_is_allowed_then_each_attempt_waits_twice_as_long(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for n in range(LIMIT):
        clock.now += 10
        assert await throttle.attempt("a@example.com") is None, n
    for delay in (1, 2, 4, 8, 16, 32, 60, 60):  # doubling from the last attempt, up to the cap
        assert await throttle.attempt("a@example.com") == delay
        clock.now += delay - 0.5
        assert await throttle.attempt("a@example.com") == 1  # not yet
        clock.now += 0.5
        assert await throttle.attempt("a@example.com") is None


async def test_the_window_slides(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(LIMIT + 3):  # eight attempts, each after its wait
        while (wait := await throttle.attempt("a@example.com")) is not None:
            clock.now += wait
    assert await throttle.attempt("a@example.com") == 8  # 2 ** (8 - LIMIT)

    clock.now += WINDOW  # every attempt has left the window

    for _ in range(LIMIT):
        assert await throttle.attempt("a@example.com") is None
    assert await throttle.attempt("a@example.com") == 1


async def test_a_refused_attempt_does_not_extend_the_wait(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(LIMIT + 2):
        while (wait := await throttle.attempt("a@example.com")) is not None:
            clock.now += wait
    for _ in range(8):  # hammering meanwhile: refused, not counted
        clock.now += 0.25
        assert await throttle.attempt("a@example.com") is not None

    clock.now += 4 - 2  # 4 s after the last counted attempt

    assert await throttle.attempt("a@example.com") is None


async def test_the_wait_is_at_least_one_second(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(LIMIT):
        await throttle.attempt("a@example.com")

    clock.now += 0.999

    assert await throttle.attempt("a@example.com") == 1


async def test_check_counts_nothing_failed_counts_one(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(10):
        assert await throttle.check("10.0.0.1") is None
    for _ in range(LIMIT):
        await throttle.failed("10.0.0.1")
    assert await throttle.check("10.0.0.1") == 1
    assert await throttle.check("10.0.0.2") is None
    clock.now += 1
    assert await throttle.check("10.0.0.1") is None


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
