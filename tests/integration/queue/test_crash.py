"""A consumer process SIGKILLed between its committed effect and its ack loses nothing and
duplicates nothing: the message is redelivered (attempts >= 2) and the idempotent effect holds."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from gamestore.platform.queue import WorkQueue, connect_queue
from tests.integration.queue.conftest import drop_rabbit_queue, queue_url

CHILD = Path(__file__).with_name("crash_consumer.py")
MESSAGES = 30


@pytest.fixture(params=["table-sqlite", "rabbitmq"])
async def crash_url(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[str]:
    async with AsyncExitStack() as stack:
        url = await queue_url(request.param, tmp_path, stack)
        if request.param == "rabbitmq":
            stack.push_async_callback(drop_rabbit_queue, url, f"crash-{unique}")
        yield url


async def run_child(url: str, queue: str, results: Path, *extra: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), "--url", url, "--queue", queue,
        "--results", str(results), "--expect", str(MESSAGES), *extra,
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), 60)


def rows(results: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(results) as conn:
        return conn.execute(sql).fetchall()


async def test_killed_consumer_loses_and_duplicates_nothing(
    crash_url: str, tmp_path: Path, unique: str
) -> None:
    name, results = f"crash-{unique}", tmp_path / "results.db"
    queue: WorkQueue = await connect_queue(crash_url)
    try:
        ids = [await queue.enqueue(name, {"n": n}) for n in range(MESSAGES)]
        victim = ids[MESSAGES // 3]
        assert await run_child(crash_url, name, results, "--kill-on", victim) == -signal.SIGKILL
        assert (victim,) in rows(results, "SELECT message_id FROM effects")  # effect committed
        assert await queue.pending(name) >= 1  # not acked: still queued (leased or requeued)

        assert await run_child(crash_url, name, results) == 0
        assert sorted(r[0] for r in rows(results, "SELECT message_id FROM effects")) == sorted(ids)
        victim_attempts = [
            r[0]
            for r in rows(results, f"SELECT attempts FROM deliveries WHERE message_id = '{victim}'")
        ]
        assert victim_attempts[0] == 1 and max(victim_attempts) >= 2, victim_attempts
        assert await queue.dead_letters(name) == []
        assert await queue.pending(name) == 0
    finally:
        await queue.close()
