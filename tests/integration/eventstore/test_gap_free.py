"""Gap-free global order on PostgreSQL (ARCHITECTURE.md guarantee 3).

The classic bug: positions come from a sequence, a writer takes position 1 and commits late,
another takes 2 and commits first; a reader that saw 2 asks for ``position > 2`` and never sees 1.
"""

from __future__ import annotations

import asyncio
import random
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from gamestore.platform.eventstore import EventStore, connect

APPEND = (
    "SELECT position FROM es_append_many(ARRAY[$1], ARRAY[-1], ARRAY[1], $2, $3, $4, $5, $6, $7)"
)


async def _append_holding(conn: asyncpg.Connection, hold: asyncio.Event | float) -> int:
    """Append one event in an explicit transaction kept open until ``hold`` is over."""
    async with conn.transaction():
        position: int = await conn.fetchval(
            APPEND, "s", [uuid.uuid4()], ["E"], ['{"x": 1}'], [None], [None], [None]
        )
        if isinstance(hold, asyncio.Event):
            await hold.wait()
        else:
            await asyncio.sleep(hold)
    return position


async def test_a_plain_sequence_loses_a_late_commit(postgres_url: str) -> None:
    """The control experiment: the same reader against a bigserial table does skip."""
    setup = await asyncpg.connect(postgres_url)
    await setup.execute("CREATE TABLE naive (position bigserial PRIMARY KEY, v text)")
    slow, fast, reader = [await asyncpg.connect(postgres_url) for _ in range(3)]
    try:
        transaction = slow.transaction()
        await transaction.start()
        await slow.execute("INSERT INTO naive (v) VALUES ('late')")  # takes position 1
        await fast.execute("INSERT INTO naive (v) VALUES ('early')")  # position 2, commits
        seen = [r["position"] for r in await reader.fetch("SELECT position FROM naive")]
        await transaction.commit()
        seen += [
            r["position"]
            for r in await reader.fetch("SELECT position FROM naive WHERE position > $1", seen[-1])
        ]
        assert seen == [2]  # position 1 is never seen by this reader
    finally:
        for conn in (setup, slow, fast, reader):
            await conn.close()


async def test_a_late_commit_holds_back_later_positions(postgres_url: str) -> None:
    store = await connect(postgres_url)
    slow, fast = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
    release = asyncio.Event()
    try:
        slow_append = asyncio.create_task(_append_holding(slow, release))
        await asyncio.sleep(0.1)
        fast_append = asyncio.create_task(_append_holding(fast, 0))
        await asyncio.sleep(0.1)
        assert await store.read_all() == []  # nothing visible while the first is open
        assert not fast_append.done()  # the second writer waits for the first
        release.set()
        assert sorted(await asyncio.gather(slow_append, fast_append)) == [1, 2]
        assert [e.position for e in await store.read_all()] == [1, 2]
    finally:
        await slow.close()
        await fast.close()
        await store.close()


async def _writer(url: str, writes: int, seed: int, written: list[uuid.UUID]) -> None:
    rng = random.Random(seed)
    conn = await asyncpg.connect(url)
    try:
        for _ in range(writes):
            event_id = uuid.uuid4()
            async with conn.transaction():
                await conn.fetchval(
                    APPEND, f"s-{seed}", [event_id], ["E"], ['{"x": 1}'], [None], [None], [None]
                )
                if rng.random() < 0.3:
                    await asyncio.sleep(rng.uniform(0, 0.004))  # commit late
            written.append(event_id)
    finally:
        await conn.close()


async def _reader(
    store: EventStore, done: asyncio.Event, seen: list[tuple[int, uuid.UUID]]
) -> None:
    after = 0
    while True:
        finished = done.is_set()
        page = await store.read_all(after=after, limit=500)
        seen.extend((e.position, e.event_id) for e in page)
        if page:
            after = page[-1].position
        elif finished:
            return


async def _read_while(
    url: str, writing: Callable[[], Awaitable[object]]
) -> list[tuple[int, uuid.UUID]]:
    """What a reader polling ``position > last`` in a tight loop sees while ``writing()`` runs
    (started once the schema exists)."""
    setup = await connect(url)  # creates the schema
    reader_store = await connect(url)
    seen: list[tuple[int, uuid.UUID]] = []
    done = asyncio.Event()
    try:
        reader = asyncio.create_task(_reader(reader_store, done, seen))
        await writing()
        done.set()
        await reader
    finally:
        await reader_store.close()
        await setup.close()
    return seen


@pytest.mark.parametrize("run", range(4))
async def test_a_tight_polling_reader_sees_every_event_once_in_order(
    postgres_url: str, run: int
) -> None:
    written: list[uuid.UUID] = []
    seen = await _read_while(
        postgres_url,
        lambda: asyncio.gather(
            *(_writer(postgres_url, 60, run * 100 + w, written) for w in range(8))
        ),
    )

    positions = [p for p, _ in seen]
    assert positions == sorted(positions), "the reader saw positions out of order"
    assert len(seen) == len(set(seen)) == 8 * 60, "an event was skipped or seen twice"
    assert {event_id for _, event_id in seen} == set(written)
    assert positions == list(range(1, 8 * 60 + 1))


CHILD = Path(__file__).with_name("append_child.py")


@pytest.mark.parametrize("run", range(2))
async def test_writers_in_separate_processes_leave_no_gap(postgres_url: str, run: int) -> None:
    """Eight writer processes append through the store (no group commit spans processes:
    they queue on the head lock), while in-process writers commit late on purpose; a reader
    polling ``position > last`` sees every event once, in order."""
    written: list[uuid.UUID] = []

    async def writing() -> None:
        children = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(CHILD),
                postgres_url,
                "60",
                str(run * 100 + w),
                stdout=asyncio.subprocess.PIPE,
            )
            for w in range(8)
        ]
        late = [_writer(postgres_url, 30, run * 100 + 50 + w, written) for w in range(2)]
        outputs = await asyncio.gather(*(c.communicate() for c in children), *late)
        for child, output in zip(children, outputs, strict=False):
            assert child.returncode == 0
            written.extend(uuid.UUID(line) for line in output[0].decode().split())

    seen = await _read_while(postgres_url, writing)

    total = 8 * 60 + 2 * 30
    positions = [p for p, _ in seen]
    assert positions == list(range(1, total + 1)), "a position was skipped, repeated or late"
    assert {event_id for _, event_id in seen} == set(written) and len(written) == total
