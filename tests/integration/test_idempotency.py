"""Idempotency-Key (platform/idempotency.py) on SQLite and PostgreSQL: replays, conflicts,
released keys, expired reservations, and 20 concurrent requests with one key."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.platform.db import create_engine
from gamestore.platform.http import ProblemError
from gamestore.platform.idempotency import (
    Finish,
    Idempotency,
    KeyedRequest,
    LeaseLost,
    Stored,
    fingerprint,
    idempotency_table,
)

metadata = MetaData()
keys_table = idempotency_table(metadata)
effects = Table(
    "effects", metadata, Column("id", Integer, primary_key=True), Column("note", String)
)
ROUTE = "POST /things"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def keys(engine: AsyncEngine) -> Idempotency:
    return Idempotency(engine, keys_table)


def effect(engine: AsyncEngine, note: str = "x", delay: float = 0.0) -> Any:
    """A run that inserts one row and stores its answer in the same transaction."""

    async def run(finish: Finish) -> Stored:
        async with engine.begin() as conn:
            result = await conn.execute(effects.insert().values(note=note))
            answer = {"id": result.inserted_primary_key[0], "note": note}
            await asyncio.sleep(delay)
            await finish(conn, 201, answer)
        return Stored(201, answer)

    return run


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(effects))).scalar() or 0)


def request(keys: Idempotency, key: str = "k-1", body: Any = None, user: str = "u1") -> Any:
    return keys.request(key, user, ROUTE, body if body is not None else {"a": 1})


async def test_same_key_same_body_replays_the_first_answer(
    keys: Idempotency, engine: AsyncEngine
) -> None:
    first = await keys.run(request(keys), effect(engine))
    again = await keys.run(request(keys), effect(engine, note="other"))
    assert (first.status, first.replayed) == (201, False)
    assert (again.status, again.body, again.replayed) == (201, first.body, True)
    assert await count(engine) == 1


async def test_same_key_different_body_is_422_and_runs_nothing(
    keys: Idempotency, engine: AsyncEngine
) -> None:
    await keys.run(request(keys), effect(engine))
    with pytest.raises(ProblemError) as caught:
        await keys.run(request(keys, body={"a": 2}), effect(engine))
    assert caught.value.status == 422
    assert await count(engine) == 1


async def test_keys_are_scoped_per_user_and_route(keys: Idempotency, engine: AsyncEngine) -> None:
    await keys.run(request(keys, user="u1"), effect(engine))
    other_user = await keys.run(request(keys, user="u2"), effect(engine))
    other_route = await keys.run(keys.request("k-1", "u1", "POST /other", {"a": 1}), effect(engine))
    assert not other_user.replayed and not other_route.replayed
    assert await count(engine) == 3


@pytest.mark.parametrize("key", ["", "x" * 256])
async def test_an_empty_or_too_long_key_is_422(keys: Idempotency, key: str) -> None:
    with pytest.raises(ProblemError) as caught:
        keys.request(key, "u1", ROUTE, {})
    assert caught.value.status == 422
    assert keys.request("x" * 255, "u1", ROUTE, {}) is not None
    assert keys.request(None, "u1", ROUTE, {}) is None


async def test_no_key_runs_every_time(keys: Idempotency, engine: AsyncEngine) -> None:
    await keys.run(None, effect(engine))
    await keys.run(None, effect(engine))
    assert await count(engine) == 2


async def test_a_key_whose_run_failed_is_released(keys: Idempotency, engine: AsyncEngine) -> None:
    async def failing(finish: Finish) -> Stored:
        async with engine.begin() as conn:
            await conn.execute(effects.insert().values(note="rolled back"))
            raise ProblemError(404, "no such thing")

    with pytest.raises(ProblemError):
        await keys.run(request(keys), failing)
    retried = await keys.run(request(keys), effect(engine))
    assert not retried.replayed
    assert await count(engine) == 1


async def test_same_key_while_running_is_409(keys: Idempotency, engine: AsyncEngine) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(finish: Finish) -> Stored:
        started.set()
        await release.wait()
        return await effect(engine)(finish)

    first = asyncio.create_task(keys.run(request(keys), slow))
    await started.wait()
    with pytest.raises(ProblemError) as caught:
        await keys.run(request(keys), effect(engine))
    assert caught.value.status == 409
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 10  # at most the lease
    release.set()
    assert (await first).status == 201
    assert (await keys.run(request(keys), effect(engine))).replayed


async def test_a_crashed_reservation_expires_and_is_taken_over(
    keys: Idempotency, engine: AsyncEngine
) -> None:
    keyed: KeyedRequest = request(keys)
    await keys._reserve(keyed, "dead-process")  # reserved, then the process died
    with pytest.raises(ProblemError) as caught:
        await keys.run(keyed, effect(engine))
    assert caught.value.status == 409
    async with engine.begin() as conn:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await conn.execute(update(keys_table).values(locked_until=past))
    taken = await keys.run(keyed, effect(engine))
    assert not taken.replayed and await count(engine) == 1


async def test_a_long_run_keeps_its_key_past_its_lease(engine: AsyncEngine) -> None:
    keys = Idempotency(engine, keys_table, lease=1.0)  # renewed every 0.33 s while it runs
    started = asyncio.Event()

    async def slow(finish: Finish) -> Stored:
        started.set()
        await asyncio.sleep(3.0)
        return await effect(engine, note="slow")(finish)

    first = asyncio.create_task(keys.run(request(keys), slow))
    await started.wait()
    await asyncio.sleep(2.2)  # more than twice the lease
    with pytest.raises(ProblemError) as caught:
        await keys.run(request(keys), effect(engine, note="retry"))
    assert caught.value.status == 409
    assert (await first).body["note"] == "slow"
    assert await count(engine) == 1


KILLED_MID_WAY = """
import asyncio, sys
from gamestore.platform.db import create_engine
from gamestore.platform.idempotency import Idempotency
from tests.integration.test_idempotency import ROUTE, keys_table

async def main(url):
    keys = Idempotency(create_engine(url), keys_table, lease=1.0)

    async def stuck(finish):
        print("running", flush=True)
        await asyncio.sleep(3600)

    await keys.run(keys.request("k-1", "u1", ROUTE, {"a": 1}), stuck)

asyncio.run(main(sys.argv[1]))
"""


async def test_a_request_killed_mid_way_frees_its_key_within_the_lease(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "killed.py").write_text(KILLED_MID_WAY)
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(tmp_path / "killed.py"), database_url,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip
    assert child.stdout is not None
    assert await asyncio.wait_for(child.stdout.readline(), 30) == b"running\n"
    await asyncio.sleep(0.8)  # its lease was renewed meanwhile
    child.kill()
    await child.wait()
    keys = Idempotency(engine, keys_table, lease=1.0)
    with pytest.raises(ProblemError) as caught:
        await keys.run(request(keys), effect(engine))
    assert caught.value.status == 409 and caught.value.headers["Retry-After"] == "1"
    await asyncio.sleep(1.1)  # the dead owner renews no more
    taken = await keys.run(request(keys), effect(engine))
    assert (taken.status, taken.replayed) == (201, False)
    assert await count(engine) == 1


async def test_a_run_that_lost_its_lease_rolls_its_effect_back(engine: AsyncEngine) -> None:
    # Its renewals cannot land in time (a stalled process, an unreachable database).
    keys = Idempotency(engine, keys_table, lease=0.2, renew_every=10)
    started = asyncio.Event()

    async def slow(finish: Finish) -> Stored:
        started.set()
        await asyncio.sleep(0.5)
        return await effect(engine, note="late")(finish)

    first = asyncio.create_task(keys.run(request(keys), slow))
    await started.wait()
    await asyncio.sleep(0.3)  # the first run's lease is over: a retry takes the key
    second = await keys.run(request(keys), effect(engine, note="retry"))
    with pytest.raises(LeaseLost):
        await first
    assert second.body["note"] == "retry"
    assert await count(engine) == 1


async def test_twenty_concurrent_requests_with_one_key_run_once(
    keys: Idempotency, engine: AsyncEngine
) -> None:
    async def attempt() -> int:
        try:
            return (await keys.run(request(keys), effect(engine, delay=0.05))).status
        except ProblemError as error:
            return error.status

    statuses = await asyncio.gather(*(attempt() for _ in range(20)))
    assert set(statuses) <= {201, 409}, statuses
    assert await count(engine) == 1
    assert (await keys.run(request(keys), effect(engine))).replayed


async def test_a_run_that_does_not_finish_has_its_answer_stored_after(
    keys: Idempotency, engine: AsyncEngine
) -> None:
    async def plain(finish: Finish) -> Stored:
        return Stored(200, {"ok": True})

    await keys.run(request(keys), plain)
    replay = await keys.run(request(keys), plain)
    assert (replay.status, replay.body, replay.replayed) == (200, {"ok": True}, True)


def test_fingerprint_is_canonical() -> None:
    assert fingerprint({"b": 1, "a": "é"}) == fingerprint({"a": "é", "b": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": "1"})


async def test_forget_before_drops_old_answers_only(keys: Idempotency, engine: AsyncEngine) -> None:
    await keys.run(request(keys), effect(engine))
    assert await keys.forget_before(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert await keys.forget_before(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert not (await keys.run(request(keys), effect(engine))).replayed
