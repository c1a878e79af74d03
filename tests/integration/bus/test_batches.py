"""``consume_batches``: pages of events per call, every event once in order, and a page that
keeps failing falls back to one event at a time so only the poison event is dead-lettered."""

from __future__ import annotations

import asyncio

from gamestore.platform.bus import BatchHandler, EventBus
from gamestore.platform.eventstore import RecordedEvent
from tests.integration.bus.conftest import World
from tests.integration.bus.support import Running, eventually


class BatchRecorder:
    """Records every batch it is given; raises on any batch holding an event in ``fail_on``."""

    def __init__(self, fail_on: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.handled: list[int] = []
        self.fail_on = fail_on

    async def __call__(self, events: list[RecordedEvent]) -> None:
        numbers = [int(e.data["n"]) for e in events]
        self.batches.append(numbers)
        if self.fail_on & set(numbers):
            raise RuntimeError(f"poison among {numbers}")
        self.handled += numbers


def start_batches(bus: EventBus, group: str, handler: BatchHandler) -> Running:
    stop = asyncio.Event()
    task = asyncio.create_task(
        bus.consume_batches(group, {"A"}, handler, stop=stop, max_attempts=2)
    )
    return Running(task, stop)


async def test_every_event_is_handled_once_in_order(world: World) -> None:
    group, recorder = world.group("batches"), BatchRecorder()
    running = start_batches(await world.open_bus(), group, recorder)
    await world.ready(group)
    await world.append(["A", "B"] * 20)

    await eventually(lambda: _at_least(recorder, 20), what="all A events")
    await running.stop_within()

    assert recorder.handled == list(range(0, 40, 2))  # the A events, in order, once
    if world.kind != "rabbitmq":  # the embedded bus hands whole pages over
        assert len(recorder.batches) < 20


async def test_a_page_that_keeps_failing_dead_letters_only_its_poison(world: World) -> None:
    group, recorder = world.group("poisonpage"), BatchRecorder(fail_on=frozenset({6}))
    bus = await world.open_bus()
    running = start_batches(bus, group, recorder)
    await world.ready(group)
    events = await world.append(["A"] * 10)

    await eventually(lambda: _at_least(recorder, 9), what="every event but the poison")
    await eventually(lambda: _dead_count(bus, group, 1), what="the poison's dead letter")
    await running.stop_within()

    assert sorted(recorder.handled) == [n for n in range(10) if n != 6]
    [dead] = await bus.dead_letters(group)
    assert dead.message["event_id"] == str(events[6].event_id)


async def _at_least(recorder: BatchRecorder, count: int) -> bool:
    return len(recorder.handled) >= count


async def _dead_count(bus: EventBus, group: str, count: int) -> bool:
    return len(await bus.dead_letters(group)) >= count


async def test_a_log_longer_than_a_page_is_handled_whole(world: World) -> None:
    """Pages follow each other: a full page is never mistaken for the end of the log."""
    group, recorder = world.group("pages"), BatchRecorder()
    count = 600  # more than two pages of the embedded bus (256 events)
    if world.kind == "rabbitmq":  # its group queue must exist before the events are published
        running = start_batches(await world.open_bus(), group, recorder)
        await world.ready(group)
        await world.append(["A"] * count)
    else:  # the whole log is there before the first read: full pages, one after the other
        await world.append(["A"] * count)
        running = start_batches(await world.open_bus(), group, recorder)

    await eventually(lambda: _at_least(recorder, count), what="every event")
    await world.append(["A"])  # and the group is still following afterwards
    await eventually(lambda: _at_least(recorder, count + 1), what="the next event")
    await running.stop_within()

    assert recorder.handled == [*range(count), 0]


async def test_events_that_wait_are_handed_over_as_one_page(world: World) -> None:
    """While the handler is busy, what arrives meanwhile comes next as one page (RabbitMQ:
    the messages prefetched; embedded: the log read on)."""
    gate = asyncio.Event()

    class Gated(BatchRecorder):
        entered = False

        async def __call__(self, events: list[RecordedEvent]) -> None:
            self.entered = True
            await gate.wait()
            await super().__call__(events)

    group, recorder = world.group("waiting"), Gated()
    running = start_batches(await world.open_bus(), group, recorder)
    await world.ready(group)
    await world.append(["A"])
    await eventually(lambda: _entered(recorder), what="the first page, held at the gate")
    await world.append(["A"] * 8)
    await asyncio.sleep(0.5)  # the eight arrive while the first page is held
    gate.set()

    await eventually(lambda: _at_least(recorder, 9), what="every event")
    await running.stop_within()

    assert recorder.handled == [0, *range(8)]
    assert recorder.batches[1:] == [list(range(8))]


async def _entered(recorder: BatchRecorder) -> bool:
    return bool(getattr(recorder, "entered", False))
