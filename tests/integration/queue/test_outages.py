"""Outages are waited out, never counted, on every adapter (see ``bench`` in conftest.py).

A handler whose dependency is away is called again with the same delivery (its attempt count
unchanged) for as long as the outage lasts, and nothing is dead-lettered; a consumer told to
stop meanwhile gives the message back without counting the held delivery. The table queue's
own database going away (a cut through the fault proxy) delays settling; it loses nothing.
"""

from __future__ import annotations

import asyncio

import pytest

from gamestore.platform.faults import Pause, TransientError
from gamestore.platform.queue import Message, RetryPolicy, WorkQueue, connect_queue
from tests.conftest import fresh_postgres_database
from tests.faultproxy import FaultProxy
from tests.integration.queue.conftest import Bench
from tests.integration.queue.support import Consuming, eventually

QUICK = Pause(first=0.005, cap=0.02)
POLICY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


class Away:
    """A handler whose dependency refuses ``failures`` calls before it answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[int] = []
        self.handled: list[str] = []

    async def __call__(self, message: Message) -> None:
        self.attempts.append(message.attempts)
        if len(self.attempts) <= self.failures:
            raise ConnectionRefusedError(111, "Connect call failed")
        self.handled.append(message.id)


async def test_an_outage_longer_than_max_attempts_is_waited_out(bench: Bench) -> None:
    bench.options["pause"] = QUICK
    queue, handler = await bench.open(), Away(failures=25)
    mid = await queue.enqueue(bench.name, {"n": 1})
    async with Consuming(queue, bench.name, handler, policy=POLICY):
        await eventually(lambda: bool(handler.handled), what="the message, after the outage")
    assert handler.handled == [mid]
    assert handler.attempts == [1] * 26  # the same delivery, never counted
    assert await queue.dead_letters(bench.name) == []
    assert await queue.pending(bench.name) == 0


async def test_retry_after_is_honoured(bench: Bench) -> None:
    bench.options["pause"] = QUICK
    queue, calls = await bench.open(), list[float]()

    async def overloaded(message: Message) -> None:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) == 1:
            raise TransientError("429 from the provider", retry_after=0.5)

    await queue.enqueue(bench.name, {"n": 1})
    async with Consuming(queue, bench.name, overloaded, policy=POLICY):
        await eventually(lambda: len(calls) >= 2, what="the second call")
    assert calls[1] - calls[0] >= 0.45  # 0.5 s asked for (a loop may wake a hair early)


async def test_a_stop_during_an_outage_gives_the_message_back_uncounted(bench: Bench) -> None:
    bench.options["pause"] = Pause(first=0.05, cap=0.1)
    queue, handler = await bench.open(), Away(failures=10_000)
    mid = await queue.enqueue(bench.name, {"n": 1})
    async with Consuming(queue, bench.name, handler, policy=POLICY):
        await eventually(lambda: len(handler.attempts) >= 3, what="a few paused calls")
    seen: list[Message] = []

    async def healthy(message: Message) -> None:
        seen.append(message)

    async with Consuming(await bench.open(), bench.name, healthy, policy=POLICY):
        await eventually(lambda: len(seen) >= 1, what="the message again", within=20)
    assert [(m.id, m.attempts) for m in seen] == [(mid, 1)]
    assert await queue.dead_letters(bench.name) == []


@pytest.mark.postgres
async def test_the_table_queue_waits_out_its_database_going_away() -> None:
    async with fresh_postgres_database() as url, FaultProxy("127.0.0.1", 5432) as proxy:
        queue = await connect_queue(proxy.rewrite(url), lease_timeout=5.0, pause=QUICK)
        handled: list[str] = []
        release = asyncio.Event()

        async def slow(message: Message) -> None:
            await release.wait()
            handled.append(message.id)

        try:
            ids = [await queue.enqueue("cut", {"n": n}) for n in range(3)]
            async with Consuming(queue, "cut", slow, policy=POLICY, concurrency=3):
                await asyncio.sleep(0.3)  # all three leased, their handlers waiting
                proxy.cut()
                release.set()  # the handlers finish while their acks cannot be written
                await asyncio.sleep(1.0)
                await proxy.restored()
                await eventually(lambda: _empty(queue, "cut"), what="every ack written", within=20)
            assert sorted(handled) == sorted(ids)
            assert await queue.dead_letters("cut") == []
        finally:
            await queue.close()


async def _empty(queue: WorkQueue, name: str) -> bool:
    return await queue.pending(name) == 0
