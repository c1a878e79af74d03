"""RetryPolicy.delay: exponential backoff with jitter, capped."""

from __future__ import annotations

from gamestore.platform.queue import RetryPolicy


def test_delay_doubles_per_attempt_within_jitter_bounds() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=30.0)
    for attempts in range(1, 6):
        ceiling = 0.5 * 2 ** (attempts - 1)
        samples = [policy.delay(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples), attempts
        assert max(samples) - min(samples) > ceiling / 10  # jittered, not constant


def test_delay_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    assert all(2.0 <= policy.delay(20) <= 4.0 for _ in range(100))


def test_later_attempts_never_wait_less_than_earlier_ones_at_most_waited() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=10.0)
    for attempts in range(1, 6):
        assert (
            min(policy.delay(attempts + 1) for _ in range(100))
            >= max(policy.delay(attempts) for _ in range(100)) - 1e-9
        )
