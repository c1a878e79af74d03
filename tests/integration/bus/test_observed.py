"""What a consuming process says about its bus groups, on every adapter: a stuck handler makes
it unhealthy, and a scrape shows each group's lag, deliveries and dead letters."""

from __future__ import annotations

import asyncio

import pytest

from gamestore.platform import metrics
from gamestore.platform.bus import EventBus
from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.health import HEALTH
from tests.integration.bus.conftest import World
from tests.integration.bus.support import Recorder, eventually, start


async def test_a_handler_stuck_in_one_event_makes_the_process_unhealthy(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HEALTH, "stall_after", 0.3)
    group, release = world.group("stuck"), asyncio.Event()

    async def stuck(event: RecordedEvent) -> None:
        await release.wait()

    running = start(await world.open_bus(), group, {"A"}, stuck)
    await world.ready(group)
    assert HEALTH.alive()[0]
    await world.append(["A"])
    await eventually(lambda: _stalled(f"bus {group}"), what="the loop reported stalled")
    release.set()
    await eventually(lambda: _alive(f"bus {group}"), what="the loop alive again")
    await running.stop_within()
    assert f"bus {group}" not in HEALTH.alive()[1]["loops"], "the loop left with its consumer"


async def test_a_scrape_shows_lag_deliveries_and_dead_letters(world: World) -> None:
    group, recorder = world.group("scraped"), Recorder(fail_on={0})
    handled = metrics.CONSUMER_DELIVERIES.labels(group, "handled")
    dead = metrics.CONSUMER_DELIVERIES.labels(group, "dead_lettered")
    running = start(await world.open_bus(), group, {"A"}, recorder, max_attempts=2)
    await world.ready(group)
    await world.append(["A"] * 4)
    await eventually(lambda: _value_is(handled, 3), what="3 handled")
    await eventually(lambda: _value_is(dead, 1), what="1 dead-lettered")

    async def caught_up() -> bool:
        await metrics.sample()
        lag = metrics.CONSUMER_LAG_EVENTS.labels(group)._value.get()
        letters = metrics.DEAD_LETTERS.labels("bus", group)._value.get()
        return lag == 0 and letters == 1

    await eventually(caught_up, what="lag 0 and one dead letter in a scrape")
    assert metrics.CONSUMER_DELIVERIES.labels(group, "failed")._value.get() == 2
    assert metrics.CONSUMER_LAG_SECONDS.labels(group)._value.get() == 0
    await running.stop_within()


async def test_lag_counts_what_waits_while_the_group_is_stopped(world: World) -> None:
    group, seen = world.group("behind"), Recorder()
    bus = await world.open_bus()
    running = start(bus, group, {"A"}, seen)
    await world.ready(group)
    await world.append(["A"])
    await eventually(lambda: _handled(seen, 1), what="the first event handled")
    await eventually(lambda: _lag_is(bus, group, 0), what="caught up")
    await running.stop_within()
    await world.append(["A", "B", "A"])
    await eventually(lambda: _lag_is(bus, group, 2), what="two of its events waiting")
    assert metrics.CONSUMER_LAG_SECONDS.labels(group)._value.get() > 0


async def _lag_is(bus: EventBus, group: str, events: int) -> bool:
    await bus._sample(group, ["A"])  # type: ignore[attr-defined]  # what a scrape runs
    return bool(metrics.CONSUMER_LAG_EVENTS.labels(group)._value.get() == events)


async def _handled(seen: Recorder, count: int) -> bool:
    return len(seen.seen) >= count


async def _stalled(loop: str) -> bool:
    alive, report = HEALTH.alive()
    return not alive and report["loops"].get(loop, {}).get("state") == "stalled"


async def _alive(loop: str) -> bool:
    return HEALTH.alive()[0]


async def _value_is(counter: metrics.Counter, value: float) -> bool:
    return bool(counter._value.get() == value)
