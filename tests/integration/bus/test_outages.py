"""Outages are waited out, never counted: on every adapter (see ``world`` in conftest.py).

A handler whose dependency is away (a refused connection, a closed database connection) is
called again in place, with its attempt count unchanged, for as long as the outage lasts; the
group's position does not move past it and nothing is dead-lettered. The consumer itself
survives its event store failing for a while, and the RabbitMQ publisher survives its event
store's database being cut.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gamestore.platform.bus import connect_bus
from gamestore.platform.eventstore import EventStore, NewEvent, RecordedEvent, connect
from gamestore.platform.faults import Pause
from tests.conftest import AMQP_URL, fresh_postgres_database, require
from tests.faultproxy import FaultProxy
from tests.integration.bus.conftest import FAST, World
from tests.integration.bus.support import (
    Recorder,
    delete_rabbit_topology,
    eventually,
    start,
    wait_for_rabbit_consumer,
)

QUICK = Pause(first=0.005, cap=0.02)


class Outage:
    """A handler that meets ``failures`` refused connections before it can work."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []
        self.handled: list[str] = []

    async def __call__(self, event: RecordedEvent) -> None:
        self.calls.append(str(event.event_id))
        if len(self.calls) <= self.failures:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        self.handled.append(str(event.event_id))


async def test_an_outage_longer_than_max_attempts_is_waited_out(world: World) -> None:
    world.options["pause"] = QUICK
    bus, handler = await world.open_bus(), Outage(failures=20)
    group = world.group("outage")
    running = start(bus, group, {"A"}, handler, max_attempts=3)
    await world.ready(group)
    first, second = await world.append(["A", "A"])

    await eventually(lambda: _handled(handler, 2), what="both events, after the outage")
    await running.stop_within()

    assert handler.calls[:21] == [str(first.event_id)] * 21  # held in place, never skipped
    assert handler.handled == [str(first.event_id), str(second.event_id)]
    assert await bus.dead_letters(group) == []


async def test_a_stop_during_an_outage_leaves_the_event_for_the_next_member(world: World) -> None:
    world.options["pause"] = Pause(first=0.05, cap=0.1)
    group = world.group("stopped")
    handler = Outage(failures=10_000)
    running = start(await world.open_bus(), group, {"A"}, handler, max_attempts=2)
    await world.ready(group)
    [event] = await world.append(["A"])
    await eventually(lambda: _called(handler, 5), what="a few paused calls")
    await running.stop_within()  # promptly, although the handler never succeeded

    after = Recorder()
    running = start(await world.open_bus(), group, {"A"}, after, max_attempts=2)
    await eventually(lambda: _seen(after, 1), what="the event, delivered again")
    await running.stop_within()
    assert after.ids() == [str(event.event_id)]
    assert await (await world.open_bus()).dead_letters(group) == []


class FlakyStore:
    """A real event store whose reads fail with a refused connection while ``down`` is set."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.down = False
        self.url = store.url

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name not in ("read_all", "head", "load_checkpoint", "save_checkpoint"):
            return attribute

        async def maybe_failing(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise ConnectionRefusedError(111, "Connect call failed")
            return await attribute(*args, **kwargs)

        return maybe_failing


async def test_an_embedded_consumer_survives_its_event_store_failing(world: World) -> None:
    if world.kind == "rabbitmq":
        pytest.skip("a RabbitMQ consumer does not read the event store")
    store = FlakyStore(await connect(world.store_url))
    bus = await connect_bus(world.bus_url, store, store_url=world.store_url,
                            **world.options | {"pause": QUICK})  # fmt: skip
    seen = Recorder()
    group = world.group("flaky")
    running = start(bus, group, {"A"}, seen)
    before = await world.append(["A"] * 3)
    await eventually(lambda: _seen(seen, 3), what="the events before the outage")
    store.down = True
    during = await world.append(["A"] * 3, stream="during")
    await asyncio.sleep(0.5)
    assert not running.task.done(), "the consumer gave up during the outage"
    store.down = False
    await eventually(lambda: _seen(seen, 6), what="the events appended during the outage")
    await running.stop_within()
    await bus.close()
    assert sorted(seen.ids()) == sorted(str(e.event_id) for e in before + during)


@pytest.mark.postgres
async def test_the_publisher_survives_its_database_being_cut(unique: str) -> None:
    require("RabbitMQ", AMQP_URL, 5672)
    exchange, group = f"gs-test-{unique}", f"cut-{unique}"
    options: dict[str, Any] = FAST | {"exchange": exchange, "pause": QUICK}
    async with fresh_postgres_database() as url, FaultProxy("127.0.0.1", 5432) as proxy:
        direct = await connect(url)
        through = await connect(proxy.rewrite(url))
        publisher = await connect_bus(AMQP_URL, through, **options)
        consumer = await connect_bus(AMQP_URL, direct, **options)
        stop, seen = asyncio.Event(), Recorder()
        relay = asyncio.create_task(publisher.run_publisher(stop=stop))
        running = start(consumer, group, {"A"}, seen)
        try:
            await wait_for_rabbit_consumer(AMQP_URL, f"gamestore.{group}")
            await direct.append("s", [NewEvent("A", {"n": 0})])
            await eventually(lambda: _seen(seen, 1), what="the first event")
            proxy.cut()
            for n in range(1, 6):
                await direct.append("s", [NewEvent("A", {"n": n})])
            await asyncio.sleep(1.0)
            assert not relay.done(), "the publisher exited during the outage"
            await proxy.restored()
            await eventually(lambda: _seen(seen, 6), within=20, what="every event, after it")
        finally:
            stop.set()
            await running.stop_within(5)
            await asyncio.wait_for(relay, 10)
            for opened in (publisher, consumer):
                await opened.close()
            for store in (through, direct):
                await store.close()
            await delete_rabbit_topology(AMQP_URL, exchange, [group])
    assert sorted(e.data["n"] for e in seen.seen) == list(range(6))


async def _handled(handler: Outage, count: int) -> bool:
    return len(handler.handled) >= count


async def _called(handler: Outage, count: int) -> bool:
    return len(handler.calls) >= count


async def _seen(recorder: Recorder, count: int) -> bool:
    return len({e.event_id for e in recorder.seen}) >= count
