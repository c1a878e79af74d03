"""A process's liveness (its loops turn) and readiness (its dependencies answer)."""

from __future__ import annotations

import asyncio
import time

import pytest

from gamestore.platform.health import Health
from gamestore.platform.metrics import DEPENDENCY_UP, LOOP_STALLED


def test_a_loop_between_steps_or_inside_a_short_one_is_alive() -> None:
    health = Health()
    with health.loop("bus games", stall_after=10) as beat:
        assert health.alive() == (True, {"status": "alive", "loops": {"bus games": _idle()}})
        with beat.step():
            alive, report = health.alive()
        assert alive and report["loops"]["bus games"]["state"] == "busy"
    assert health.alive() == (True, {"status": "alive", "loops": {}})


def test_a_step_longer_than_its_bound_is_a_stalled_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    health, clock = Health(), _Clock(monkeypatch)
    with health.loop("queue payments", stall_after=5) as beat, beat.step() as step:
        clock.advance(4)
        assert health.alive()[0]
        step.progress()  # a retry after an outage: alive, although long
        clock.advance(4)
        assert health.alive()[0]
        clock.advance(2)
        alive, report = health.alive()
        assert not alive and report["status"] == "stalled"
        assert report["loops"]["queue payments"] == {"state": "stalled", "busy_seconds": 6.0}
        assert LOOP_STALLED.labels("queue payments")._value.get() == 1
    assert health.alive()[0] and LOOP_STALLED.labels("queue payments")._value.get() == 0


def test_concurrent_steps_are_watched_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A consumer running several handlers: a stuck one is seen although others keep
    finishing (the loop is never between steps)."""
    health, clock = Health(), _Clock(monkeypatch)
    with health.loop("queue payments", stall_after=5) as beat, beat.step():
        for _ in range(10):
            with beat.step():
                clock.advance(1)
        assert not health.alive()[0]


async def test_ready_when_every_dependency_answers() -> None:
    health = Health()
    with health.depends_on("database", _answers), health.depends_on("broker", _answers):
        ready, report = await health.ready()
    assert ready and report["status"] == "ready"
    assert {name: check["status"] for name, check in report["checks"].items()} == {
        "database": "up",
        "broker": "up",
    }
    assert DEPENDENCY_UP.labels("broker")._value.get() == 1


async def test_not_ready_names_what_failed_or_did_not_answer_in_time() -> None:
    health = Health()
    with (
        health.depends_on("database", _refused),
        health.depends_on("search", _hangs),
        health.depends_on("event_store", _answers),
    ):
        began = time.monotonic()
        ready, report = await health.ready(timeout=0.2)
    assert time.monotonic() - began < 1.0, "probes run together, each bounded"
    assert not ready and report["status"] == "unready"
    assert sorted(report["down"]) == ["database", "search"]
    assert report["checks"]["database"]["error"] == "ConnectionRefusedError: connection refused"
    assert report["checks"]["search"]["error"] == "no answer within 0.2 s"
    assert report["checks"]["event_store"]["status"] == "up"
    assert DEPENDENCY_UP.labels("database")._value.get() == 0


async def test_a_dependency_watched_twice_is_down_if_either_is() -> None:
    health = Health()
    with health.depends_on("database", _answers), health.depends_on("database", _refused):
        ready, report = await health.ready()
    assert not ready and report["checks"]["database"]["status"] == "down"


async def test_a_dependency_no_longer_watched_is_not_checked() -> None:
    health = Health()
    with health.depends_on("database", _refused):
        pass
    assert await health.ready() == (True, {"status": "ready", "checks": {}})


class _Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr(time, "monotonic", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _idle() -> dict[str, object]:
    return {"state": "idle", "busy_seconds": 0.0}


async def _answers() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("connection refused")


async def _hangs() -> None:
    await asyncio.sleep(60)
