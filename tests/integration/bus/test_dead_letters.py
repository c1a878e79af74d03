"""A bus's dead letters, for operators: listed from any process, replayed to their group alone,
discarded, purged — on every adapter (see ``world`` in conftest.py)."""

from __future__ import annotations

from gamestore.platform.bus import EventBus
from gamestore.platform.eventstore import RecordedEvent
from tests.integration.bus.conftest import World
from tests.integration.bus.support import Recorder, eventually, start


class Mendable:
    """Fails for good on every event until mended."""

    def __init__(self) -> None:
        self.mended = False
        self.handled: list[str] = []

    async def __call__(self, event: RecordedEvent) -> None:
        if not self.mended:
            raise ValueError(f"cannot handle {event.event_id} yet")
        self.handled.append(str(event.event_id))


async def _dead(bus: EventBus, group: str, count: int) -> None:
    async def enough() -> bool:
        return len(await bus.dead_letters(group)) >= count

    await eventually(enough, what=f"{count} dead letters of {group}")


async def test_a_replay_reaches_its_group_alone_and_succeeds_once_mended(world: World) -> None:
    bus = await world.open_bus()
    failing, other = world.group("failing"), world.group("other")
    mendable, bystander = Mendable(), Recorder()
    runs = [
        start(bus, failing, {"A"}, mendable, max_attempts=2),
        start(bus, other, {"A"}, bystander),
    ]
    for group in (failing, other):
        await world.ready(group)
    [event] = await world.append(["A"])
    await _dead(bus, failing, 1)
    await eventually(lambda: _seen(bystander, 1), what="the other group's delivery")

    [dead] = await (await world.open_bus()).dead_letters()  # a process that never consumed
    assert (dead.source, dead.queue, dead.attempts) == ("bus", failing, 2)
    assert dead.message["event_id"] == str(event.event_id)
    assert "ValueError: cannot handle" in dead.error
    assert dead.correlation_id == event.correlation_id

    mendable.mended = True
    assert await (await world.open_bus()).replay(dead.id)
    await eventually(lambda: _handled(mendable, 1), what="the replayed event")
    for running in runs:
        await running.stop_within()
    assert mendable.handled == [str(event.event_id)]
    assert bystander.ids() == [str(event.event_id)]  # the other group did not get it again
    assert await bus.dead_letters() == []
    assert not await bus.replay(dead.id)  # gone once replayed


async def test_discard_and_purge(world: World) -> None:
    bus = await world.open_bus()
    first, second = world.group("first"), world.group("second")
    runs = [
        start(bus, first, {"A"}, Mendable(), max_attempts=1),
        start(bus, second, {"A"}, Mendable(), max_attempts=1),
    ]
    for group in (first, second):
        await world.ready(group)
    await world.append(["A", "A"])
    await _dead(bus, first, 2)
    await _dead(bus, second, 2)
    for running in runs:
        await running.stop_within()

    one = (await bus.dead_letters(first))[0]
    assert await bus.discard(one.id)
    assert not await bus.discard(one.id)
    assert not await bus.replay("no-such-dead-letter")
    assert len(await bus.dead_letters(first)) == 1
    assert await bus.purge(second) == 2
    assert [d.queue for d in await bus.dead_letters()] == [first]
    assert await bus.purge() == 1
    assert await bus.dead_letters() == []


async def _seen(recorder: Recorder, count: int) -> bool:
    return len(recorder.seen) >= count


async def _handled(handler: Mendable, count: int) -> bool:
    return len(handler.handled) >= count
