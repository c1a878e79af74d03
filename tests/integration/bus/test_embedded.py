"""What only the embedded bus promises: wake-up latency, and one active member per group."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from gamestore.platform.eventstore import NewEvent
from tests.integration.bus.conftest import World
from tests.integration.bus.support import Recorder, eventually, start

SAMPLES = 40


embedded_only = pytest.mark.parametrize(
    "world", ["embedded-sqlite", "embedded-postgres"], indirect=True
)


@embedded_only
async def test_a_new_event_reaches_a_waiting_handler_within_50_ms(world: World) -> None:
    seen = Recorder()
    running = start(await world.open_bus(), world.group("latency"), {"Ping"}, seen)
    await asyncio.sleep(0.3)  # the consumer has caught up and is waiting

    latencies = []
    for n in range(SAMPLES):
        appended = time.perf_counter()
        await world.store.append(f"ping-{world.unique}", [NewEvent(type="Ping", data={"n": n})])
        await eventually(lambda n=n: _count_above(seen, n), within=5, what="the handler")  # type: ignore[misc]
        latencies.append(seen.started[n] - appended)
        await asyncio.sleep(0.005)  # let the consumer go back to waiting
    await running.stop_within()

    latencies.sort()
    median, worst = statistics.median(latencies), latencies[-1]
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"\n{world.kind} wake-up latency: median {median * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {worst * 1000:.1f} ms"
    )
    assert median < 0.050
    assert worst < 0.250


@embedded_only
async def test_a_standby_member_handles_nothing_until_the_active_one_stops(world: World) -> None:
    group, active, standby = world.group("lease"), Recorder(), Recorder()
    first = start(await world.open_bus(), group, {"A"}, active)
    await world.append(["A"])
    await eventually(lambda: _count_above(active, 0), what="the first member, active")
    second = start(await world.open_bus(), group, {"A"}, standby)

    await world.append(["A"] * 9, stream="more")
    await eventually(lambda: _count_above(active, 9), what="the active member")
    await asyncio.sleep(0.3)
    assert standby.seen == []

    await first.stop_within()
    await world.append(["A"] * 3, stream="later")
    await eventually(lambda: _count_above(standby, 2), what="the standby taking over")
    await second.stop_within()
    assert len(active.seen) == 10
    assert len(standby.seen) == 3


async def _count_above(recorder: Recorder, n: int) -> bool:
    return len(recorder.seen) > n
