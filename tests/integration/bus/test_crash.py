"""A consumer PROCESS killed (SIGKILL) between its effect's commit and its checkpoint/ack:
the event is delivered again, and the inbox keeps the effect single. Nothing is lost."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from tests.integration.bus.conftest import World
from tests.integration.bus.crash_child import COMMITTED
from tests.integration.bus.support import (
    counts,
    deliveries,
    effects,
    eventually,
    logged_idempotent,
    start,
)

CHILD = Path(__file__).with_name("crash_child.py")
CRASH_N = 3


@pytest.mark.parametrize("world", ["embedded-sqlite", "rabbitmq"], indirect=True)
async def test_a_consumer_killed_after_its_effect_neither_loses_nor_doubles(world: World) -> None:
    group = world.group("crash")
    child = await _spawn(world, group)
    try:
        await world.ready(group)
        events = await world.append(["A"] * 8)
        line = await asyncio.wait_for(child.stdout.readline(), 20)  # type: ignore[union-attr]
        assert line.decode().strip() == COMMITTED
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()

    running = start(
        await world.open_bus(), group, {"A"}, logged_idempotent(world.consumer_db, group)
    )
    ids = {str(e.event_id) for e in events}
    await eventually(lambda: _effects_cover(world, ids), what="every effect after the restart")
    await running.stop_within()

    assert await counts(world.consumer_db, effects) == dict.fromkeys(ids, 1)
    crashed = str(events[CRASH_N].event_id)
    assert await counts(world.consumer_db, deliveries) == {i: 1 + (i == crashed) for i in ids}


@pytest.mark.parametrize("world", ["embedded-sqlite", "embedded-postgres"], indirect=True)
async def test_an_event_that_kills_every_consumer_is_dead_lettered(world: World) -> None:
    group = world.group("poison")
    events = await world.append(["A"] * 6)
    # The first member dies on the poison mid-run; the next three (max_attempts) die on it as
    # the first event they try; the fifth dead-letters it without handling it.
    for _ in range(4):
        child = await _spawn(world, group, die=True)
        assert await asyncio.wait_for(child.wait(), 30) == -signal.SIGKILL

    bus = await world.open_bus()
    running = start(bus, group, {"A"}, logged_idempotent(world.consumer_db, group))
    poison = events[CRASH_N]
    others = {str(e.event_id) for e in events} - {str(poison.event_id)}
    await eventually(lambda: _effects_cover(world, others), what="the events after the poison")
    await running.stop_within()

    assert set(await counts(world.consumer_db, effects)) == others
    [dead] = await bus.dead_letters(group)
    assert dead.message["event_id"] == str(poison.event_id)
    assert "died" in dead.error and dead.attempts == 3


async def _spawn(world: World, group: str, *, die: bool = False) -> asyncio.subprocess.Process:
    options: dict[str, object] = {"lease_ttl": 1.0, "standby_poll": 0.05}
    if world.kind == "rabbitmq":
        options = {"exchange": world.options["exchange"]}
    args = {
        "bus_url": world.bus_url,
        "store_url": world.store_url,
        "consumer_db_url": world.consumer_db_url,
        "group": group,
        "crash_n": CRASH_N,
        "die": die,
        "options": options,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), json.dumps(args), stdout=asyncio.subprocess.PIPE
    )


async def _effects_cover(world: World, ids: set[str]) -> bool:
    return ids <= set(await counts(world.consumer_db, effects))
