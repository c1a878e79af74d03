"""The in-process token bucket on a fake clock."""

from __future__ import annotations

from gamestore.gateway.ratelimit import InProcessRateLimiter, Limit, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_refill_is_proportional_and_capped() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(clock=clock)
    limit = Limit(rate=2.0, burst=4)
    assert [await limiter.take("k", limit) for _ in range(4)] == [0.0] * 4
    assert await limiter.take("k", limit) == 0.5
    clock.now += 1.0  # two tokens back
    assert [await limiter.take("k", limit) for _ in range(2)] == [0.0, 0.0]
    assert await limiter.take("k", limit) > 0
    clock.now += 3600  # never more than the burst
    assert sum([await limiter.take("k", limit) == 0.0 for _ in range(10)]) == 4


async def test_full_buckets_are_forgotten_when_too_many() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(max_keys=100, clock=clock)
    limit = Limit(rate=1.0, burst=1)
    for n in range(100):
        await limiter.take(f"old{n}", limit)
    clock.now += 10  # every old bucket is full again
    await limiter.take("busy", limit)
    await limiter.take("new", limit)
    assert len(limiter._buckets) == 2
    assert await limiter.take("busy", limit) > 0  # the live bucket kept its state


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 59.9)] == ["1", "1", "2", "60"]


def test_zero_rate_disables() -> None:
    assert not Limit(0, 10).enabled
    assert Limit(1, 1).enabled
