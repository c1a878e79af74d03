"""The WorkQueue contract, run against every adapter (see conftest.KINDS)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

import pytest

from gamestore.platform.logs import correlation, correlation_id
from gamestore.platform.queue import (
    Message,
    PermanentError,
    RetriesExhausted,
    RetryPolicy,
    WorkQueue,
)
from tests.integration.queue.conftest import Bench
from tests.integration.queue.support import FAST, Consuming, dead_letter_ids, eventually


async def test_enqueued_message_is_handled_once_then_acked(queue: WorkQueue, bench: Bench) -> None:
    seen: list[Message] = []

    async def handle(message: Message) -> None:
        seen.append(message)

    mid = await queue.enqueue(bench.name, {"payment_id": "p-1", "amount_cents": 990})
    async with Consuming(queue, bench.name, handle):
        await eventually(lambda: len(seen) == 1, what="the message was handled")
    assert seen[0].id == mid
    assert seen[0].body == {"payment_id": "p-1", "amount_cents": 990}
    assert seen[0].queue == bench.name
    assert seen[0].attempts == 1
    assert abs(seen[0].enqueued_at.timestamp() - time.time()) < 10
    assert await queue.pending(bench.name) == 0
    assert await queue.dead_letters(bench.name) == []
    async with Consuming(queue, bench.name, handle):
        await asyncio.sleep(0.2)  # an acked message must not come back
    assert len(seen) == 1


async def test_correlation_id_travels_to_the_message_and_the_handler(
    queue: WorkQueue, bench: Bench
) -> None:
    seen: dict[str, tuple[str | None, str]] = {}

    async def handle(message: Message) -> None:
        seen[message.id] = (message.correlation_id, correlation_id())

    explicit = await queue.enqueue(bench.name, {}, correlation_id="corr-explicit")
    with correlation("corr-ambient"):
        ambient = await queue.enqueue(bench.name, {})
    async with Consuming(queue, bench.name, handle):
        await eventually(lambda: len(seen) == 2)
    assert seen[explicit] == ("corr-explicit", "corr-explicit")
    assert seen[ambient] == ("corr-ambient", "corr-ambient")


async def test_nothing_is_lost_under_concurrency(queue: WorkQueue, bench: Bench) -> None:
    handled: Counter[str] = Counter()

    async def handle(message: Message) -> None:
        await asyncio.sleep(0)
        handled[message.id] += 1

    ids = await asyncio.gather(*(queue.enqueue(bench.name, {"n": n}) for n in range(200)))
    async with Consuming(queue, bench.name, handle, concurrency=8):
        await eventually(lambda: len(handled) == 200, what="all 200 handled")
    assert set(handled) == set(ids)
    assert set(handled.values()) == {1}
    assert await queue.pending(bench.name) == 0


async def test_failing_message_is_retried_with_growing_delay_then_dead_lettered(
    queue: WorkQueue, bench: Bench
) -> None:
    policy = RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=1.0)
    starts: list[tuple[int, float]] = []

    async def handle(message: Message) -> None:
        starts.append((message.attempts, time.monotonic()))
        raise RuntimeError(f"psp unavailable (try {message.attempts})")

    mid = await queue.enqueue(bench.name, {"payment_id": "p-9"}, correlation_id="c-9")
    async with Consuming(queue, bench.name, handle, policy=policy):
        await eventually(lambda: dead_letter_ids(queue, bench.name), what="dead-lettered")
    assert [attempts for attempts, _ in starts] == [1, 2, 3, 4]
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(starts)]
    for attempt, gap in enumerate(gaps, start=1):
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
        assert gap >= ceiling / 2 - 0.02, (attempt, gaps)
    assert gaps[2] > gaps[0]
    [letter] = await queue.dead_letters(bench.name)
    assert (letter.id, letter.queue, letter.attempts) == (mid, bench.name, 4)
    assert letter.error == "RuntimeError: psp unavailable (try 4)"
    assert letter.message == {"payment_id": "p-9"}
    assert letter.correlation_id == "c-9"
    assert letter.source == "queue"
    assert set(letter.public()) == {  # CONTRACT.md's shape, plus where it came from
        "id",
        "queue",
        "message",
        "error",
        "attempts",
        "dead_lettered_at",
        "source",
        "correlation_id",
    }
    assert await queue.pending(bench.name) == 0


async def test_permanent_error_is_dead_lettered_at_once(queue: WorkQueue, bench: Bench) -> None:
    calls: list[int] = []

    async def handle(message: Message) -> None:
        calls.append(message.attempts)
        raise PermanentError("card declined")

    mid = await queue.enqueue(bench.name, {"card": "pm_card_visa_chargeDeclined"})
    async with Consuming(queue, bench.name, handle):
        await eventually(lambda: dead_letter_ids(queue, bench.name), what="dead-lettered")
    [letter] = await queue.dead_letters(bench.name)
    assert calls == [1]
    assert (letter.id, letter.attempts) == (mid, 1)
    assert letter.error == "permanent: card declined"


async def test_retries_exhausted_is_dead_lettered_at_once_as_transient(
    queue: WorkQueue, bench: Bench
) -> None:
    async def handle(message: Message) -> None:
        raise RetriesExhausted("the PSP answered HTTP 500 on each of 3 attempts")

    mid = await queue.enqueue(bench.name, {"n": 1})
    async with Consuming(queue, bench.name, handle):
        await eventually(lambda: dead_letter_ids(queue, bench.name), what="dead-lettered")
    [letter] = await queue.dead_letters(bench.name)
    assert (letter.id, letter.attempts) == (mid, 1)
    assert letter.error == "transient: the PSP answered HTTP 500 on each of 3 attempts"


async def _dead_letter(queue: WorkQueue, name: str, count: int) -> list[str]:
    async def reject(message: Message) -> None:
        raise PermanentError("no")

    ids = [await queue.enqueue(name, {"n": n}) for n in range(count)]

    async def all_dead() -> bool:
        return await dead_letter_ids(queue, name) == set(ids)

    async with Consuming(queue, name, reject):
        await eventually(all_dead, what="all dead-lettered")
    return ids


async def test_replay_puts_a_dead_letter_back_and_it_is_handled(
    queue: WorkQueue, bench: Bench
) -> None:
    first, second = await _dead_letter(queue, bench.name, 2)
    assert await queue.dead_letters(bench.name) == await queue.dead_letters(bench.name)
    assert await queue.replay(first) is True
    assert await queue.replay(first) is False
    assert await queue.replay("no-such-message") is False
    handled: list[Message] = []

    async def handle(message: Message) -> None:
        handled.append(message)

    async with Consuming(queue, bench.name, handle):
        await eventually(lambda: len(handled) == 1, what="replayed message handled")
    assert (handled[0].id, handled[0].attempts) == (first, 1)
    assert handled[0].body == {"n": 0}
    assert await dead_letter_ids(queue, bench.name) == {second}


async def test_purge_and_discard_empty_the_dead_letter_queue(
    queue: WorkQueue, bench: Bench
) -> None:
    ids = await _dead_letter(queue, bench.name, 4)
    assert await queue.discard(ids[0]) is True
    assert await queue.discard(ids[0]) is False
    assert await dead_letter_ids(queue, bench.name) == set(ids[1:])
    assert await queue.purge(bench.name) == 3
    assert await queue.dead_letters(bench.name) == []
    assert await queue.purge(bench.name) == 0


async def test_enqueue_is_idempotent_on_message_id(queue: WorkQueue, bench: Bench) -> None:
    if not bench.dedupes_ids:
        pytest.skip("RabbitMQ does not dedupe on publish: consumers dedupe by Message.id")
    handled: Counter[str] = Counter()

    async def handle(message: Message) -> None:
        handled[message.body["copy"]] += 1

    ids = await asyncio.gather(
        *(queue.enqueue(bench.name, {"copy": n}, message_id="pay-1") for n in range(5))
    )
    assert ids == ["pay-1"] * 5
    assert await queue.enqueue(bench.name, {"copy": 99}, message_id="pay-1") == "pay-1"
    assert await queue.pending(bench.name) == 1
    async with Consuming(queue, bench.name, handle):
        await eventually(lambda: sum(handled.values()) == 1)
    assert list(handled.values()) == [1]
    assert 99 not in handled


async def test_competing_consumers_never_share_a_message(bench: Bench) -> None:
    first, second = await bench.open(), await bench.open()
    in_flight: set[str] = set()
    overlaps: list[str] = []
    by_consumer: dict[str, Counter[str]] = {"first": Counter(), "second": Counter()}

    def handler(who: str):  # type: ignore[no-untyped-def]
        async def handle(message: Message) -> None:
            if message.id in in_flight:
                overlaps.append(message.id)
            in_flight.add(message.id)
            await asyncio.sleep(0.003)
            in_flight.discard(message.id)
            by_consumer[who][message.id] += 1

        return handle

    ids = await asyncio.gather(*(first.enqueue(bench.name, {"n": n}) for n in range(120)))
    total = lambda: sum(sum(c.values()) for c in by_consumer.values())  # noqa: E731
    async with (
        Consuming(first, bench.name, handler("first"), concurrency=4),
        Consuming(second, bench.name, handler("second"), concurrency=4),
    ):
        await eventually(lambda: total() >= 120, what="all handled")
        await asyncio.sleep(0.1)  # room for a duplicate to show up
    assert overlaps == []
    assert total() == 120
    assert set(by_consumer["first"]) | set(by_consumer["second"]) == set(ids)
    assert not set(by_consumer["first"]) & set(by_consumer["second"])
    assert by_consumer["first"] and by_consumer["second"]


async def _abandon_one_delivery(queue: WorkQueue, name: str) -> None:
    """A consumer takes a message and goes away without acking, as a killed process would."""
    started = asyncio.Event()

    async def hang(message: Message) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(queue.consume(name, hang, stop=asyncio.Event()))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_abandoned_delivery_comes_back_with_attempts_counted(bench: Bench) -> None:
    dying, survivor = await bench.open(), await bench.open()
    mid = await dying.enqueue(bench.name, {"n": 1})
    await _abandon_one_delivery(dying, bench.name)
    redelivered: list[Message] = []

    async def handle(message: Message) -> None:
        redelivered.append(message)

    async with Consuming(survivor, bench.name, handle):
        await eventually(lambda: redelivered, within=10, what="redelivery")
    assert (redelivered[0].id, redelivered[0].attempts) == (mid, 2)


async def test_message_that_keeps_killing_consumers_is_dead_lettered_unhandled(
    bench: Bench,
) -> None:
    dying, survivor = await bench.open(), await bench.open()
    mid = await dying.enqueue(bench.name, {"poison": True})
    await _abandon_one_delivery(dying, bench.name)
    handled: list[Message] = []

    async def handle(message: Message) -> None:
        handled.append(message)

    policy = RetryPolicy(max_attempts=1, base_delay=0.01)
    async with Consuming(survivor, bench.name, handle, policy=policy):
        await eventually(lambda: dead_letter_ids(survivor, bench.name), within=10)
    assert handled == []
    [letter] = await survivor.dead_letters(bench.name)
    assert (letter.id, letter.attempts) == (mid, 2)
    assert "without an ack" in letter.error


async def test_stop_ends_consume_promptly(queue: WorkQueue, bench: Bench) -> None:
    handled: list[str] = []

    async def handle(message: Message) -> None:
        handled.append(message.id)

    await queue.enqueue(bench.name, {})
    consuming = Consuming(queue, bench.name, handle, policy=FAST, concurrency=4)
    async with consuming:
        await eventually(lambda: handled)
        await asyncio.sleep(0.1)  # now idle, waiting for work
        began = time.monotonic()
    assert time.monotonic() - began < 0.5
    assert consuming.task is not None and consuming.task.done()
