"""``exclusively``: of several replicas, only the lease holder works; a standby takes over
when it stops; a holder that loses its lease halts and says so (one writer per embedded
search index, docs/adr/015)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from gamestore.platform.bus.lease import LeaseLost, exclusively, leases_for
from gamestore.platform.eventstore.postgres import dsn


class Replica:
    def __init__(self, url: str) -> None:
        self.leases = leases_for(url, ttl=1.0, poll=0.05)
        self.stop = asyncio.Event()
        self.working = asyncio.Event()
        self.halted = asyncio.Event()

    async def work(self, halt: asyncio.Event) -> None:
        self.working.set()
        await halt.wait()
        self.working.clear()
        self.halted.set()

    def run(self) -> asyncio.Task[None]:
        return asyncio.create_task(exclusively(self.leases, "writer", self.stop, self.work))


async def test_one_replica_works_the_other_takes_over_when_it_stops(database_url: str) -> None:
    first, second = Replica(database_url), Replica(database_url)
    try:
        running = first.run()
        await asyncio.wait_for(first.working.wait(), 10)
        standby = second.run()
        await asyncio.sleep(0.5)
        assert not second.working.is_set(), "two replicas worked at once"

        first.stop.set()
        await asyncio.wait_for(running, 10)
        assert first.halted.is_set()
        await asyncio.wait_for(second.working.wait(), 10)  # took over

        second.stop.set()
        await asyncio.wait_for(standby, 10)
    finally:
        for replica in (first, second):
            replica.stop.set()
            await replica.leases.close()


async def test_a_standby_stopped_before_its_turn_never_works(database_url: str) -> None:
    first, second = Replica(database_url), Replica(database_url)
    try:
        running = first.run()
        await asyncio.wait_for(first.working.wait(), 10)
        standby = second.run()
        second.stop.set()
        await asyncio.wait_for(standby, 10)
        assert not second.halted.is_set()
        first.stop.set()
        await asyncio.wait_for(running, 10)
    finally:
        for replica in (first, second):
            await replica.leases.close()


async def test_a_holder_whose_lease_is_lost_halts_and_raises(postgres_url: str) -> None:
    holder = Replica(postgres_url)
    running = holder.run()
    try:
        await asyncio.wait_for(holder.working.wait(), 10)
        admin = await asyncpg.connect(dsn(postgres_url))
        try:  # the session holding the advisory lock dies (a failover, a network cut)
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        finally:
            await admin.close()
        with pytest.raises(LeaseLost):
            await asyncio.wait_for(running, 10)
        assert holder.halted.is_set()
    finally:
        holder.stop.set()
        await holder.leases.close()
