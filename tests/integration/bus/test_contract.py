"""The EventBus contract, run against every adapter (see ``world`` in conftest.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from gamestore.platform.bus import EventBus
from gamestore.platform.eventstore import RecordedEvent
from tests.integration.bus.conftest import World
from tests.integration.bus.support import (
    Recorder,
    counts,
    deliveries,
    effects,
    eventually,
    logged_idempotent,
    start,
)


class ConsumerCrash(BaseException):
    """Kills the consumer task mid-handler, as a dying process would (not a handler error)."""


async def test_delivers_every_wanted_event_and_no_other_type(world: World) -> None:
    bus, seen = await world.open_bus(), Recorder()
    group = world.group("wanted")
    running = start(bus, group, {"GameCreated", "GameUpdated"}, seen)
    await world.ready(group)

    events = await world.append(["GameCreated", "PriceChanged", "GameUpdated"] * 10)
    wanted = [e for e in events if e.type != "PriceChanged"]
    await eventually(lambda: _at_least(seen, len(wanted)), what="every wanted event")
    await running.stop_within()

    if world.kind == "rabbitmq":  # quorum queues keep order only until a redelivery
        assert sorted(seen.ids()) == sorted(str(e.event_id) for e in wanted)
    else:
        assert seen.ids() == [str(e.event_id) for e in wanted]
    assert {e.type for e in seen.seen} == {"GameCreated", "GameUpdated"}


async def test_two_groups_each_get_every_event(world: World) -> None:
    bus = await world.open_bus()
    first, second = Recorder(), Recorder()
    groups = [world.group("first"), world.group("second")]
    runs = [start(bus, groups[0], {"A"}, first), start(bus, groups[1], {"A"}, second)]
    for group in groups:
        await world.ready(group)

    events = await world.append(["A"] * 15)
    await eventually(lambda: _each_at_least([first, second], 15), what="both groups")
    for running in runs:
        await running.stop_within()

    expected = sorted(str(e.event_id) for e in events)
    assert sorted(first.ids()) == expected
    assert sorted(second.ids()) == expected


async def test_restart_resumes_from_the_checkpoint(world: World) -> None:
    group, before = world.group("restart"), Recorder()
    running = start(await world.open_bus(), group, {"A"}, before)
    await world.ready(group)
    first = await world.append(["A"] * 10)
    await eventually(lambda: _at_least(before, 10), what="the first run")
    await running.stop_within()

    second = await world.append(["A"] * 10, stream="later")  # appended while nobody listens
    after = Recorder()
    running = start(await world.open_bus(), group, {"A"}, after)
    await eventually(lambda: _at_least(after, 10), what="the second run")
    await asyncio.sleep(0.2)  # room for a wrongful redelivery of the first run to show up
    await running.stop_within()

    assert sorted(before.ids()) == sorted(str(e.event_id) for e in first)
    assert sorted(after.ids()) == sorted(str(e.event_id) for e in second)


async def test_redelivery_after_a_crash_has_exactly_one_effect(world: World) -> None:
    group = world.group("inbox")
    handle = logged_idempotent(world.consumer_db, group)
    crash_on = 4

    async def crash_once_after_commit(event: RecordedEvent) -> None:
        await handle(event)  # effect + inbox row are committed now...
        if event.data["n"] == crash_on and not crashed.is_set():
            crashed.set()
            raise ConsumerCrash  # ...and the consumer dies before its checkpoint or ack

    crashed = asyncio.Event()
    running = start(await world.open_bus(), group, {"A"}, crash_once_after_commit)
    await world.ready(group)
    events = await world.append(["A"] * 8)
    with pytest.raises(ConsumerCrash):
        await asyncio.wait_for(running.task, 15)

    running = start(await world.open_bus(), group, {"A"}, handle)
    ids = {str(e.event_id) for e in events}
    await eventually(lambda: _effects_cover(world, ids), what="every effect")
    await running.stop_within()

    assert await counts(world.consumer_db, effects) == dict.fromkeys(ids, 1)
    delivered = await counts(world.consumer_db, deliveries)
    assert delivered[str(events[crash_on].event_id)] == 2  # it WAS redelivered


async def test_a_failing_handler_is_dead_lettered_and_the_group_moves_on(world: World) -> None:
    group, seen = world.group("poison"), Recorder(fail_on={1})
    bus = await world.open_bus()
    running = start(bus, group, {"A"}, seen, max_attempts=3)
    await world.ready(group)
    events = await world.append(["A"] * 5)
    poison = str(events[1].event_id)

    others = {str(e.event_id) for e in events} - {poison}
    await eventually(lambda: _covers(seen, others), what="the events after the poison")
    await eventually(lambda: _dead_lettered(bus, group), what="the dead letter")
    await running.stop_within()

    assert seen.ids().count(poison) == 3
    [dead] = await bus.dead_letters(group)
    assert dead.message["event_id"] == poison
    assert dead.queue == group
    assert dead.attempts == 3
    assert f"cannot handle {poison}" in dead.error


async def test_stop_ends_consume_promptly(world: World) -> None:
    group = world.group("stop")
    runs = [start(await world.open_bus(), group, {"A"}, Recorder()) for _ in range(2)]
    await world.ready(group)
    await asyncio.sleep(0.2)  # one member active and idle, the other (embedded) standing by

    began = time.monotonic()
    for running in runs:
        await running.stop_within(1.0)
    assert time.monotonic() - began < 1.0


async def test_one_member_of_a_group_handles_each_event_and_another_takes_over(
    world: World,
) -> None:
    group, first, second = world.group("members"), Recorder(), Recorder()
    one = start(await world.open_bus(), group, {"A"}, first)
    await world.ready(group)
    events = await world.append(["A"] * 5)
    await eventually(lambda: _at_least(first, 5), what="the first member")
    other = start(await world.open_bus(), group, {"A"}, second)
    events += await world.append(["A"] * 20, stream="both")
    await eventually(lambda: _at_least_total(first, second, 25), what="both members")

    await one.stop_within()
    events += await world.append(["A"] * 5, stream="after")
    await eventually(lambda: _at_least_total(first, second, 30), what="the remaining member")
    await other.stop_within()

    handled = first.ids() + second.ids()
    assert sorted(handled) == sorted(str(e.event_id) for e in events)  # none twice, none lost


async def _at_least(recorder: Recorder, n: int) -> bool:
    return len(recorder.seen) >= n


async def _each_at_least(recorders: list[Recorder], n: int) -> bool:
    return all(len(recorder.seen) >= n for recorder in recorders)


async def _at_least_total(first: Recorder, second: Recorder, n: int) -> bool:
    return len(first.seen) + len(second.seen) >= n


async def _covers(recorder: Recorder, ids: set[str]) -> bool:
    return ids <= set(recorder.ids())


async def _effects_cover(world: World, ids: set[str]) -> bool:
    return ids <= set(await counts(world.consumer_db, effects))


async def _dead_lettered(bus: EventBus, group: str) -> bool:
    return bool(await bus.dead_letters(group))
