"""Event store throughput: ours vs the ``eventsourcing`` library vs raw INSERTs, same run.

PostgreSQL, 8 concurrent writers, one event per transaction (and a batched case). Every store
here gives a gap-free global order except the raw INSERT, which is the ceiling.

    .venv/bin/python bench/eventstore.py [--events 8000] [--writers 8] [--postgres URL] [--smoke]

Also ours with the writers in separate processes, judged against a 2,600 events/s bar. The last
line is JSON: {"bench", "ratio" (separate processes / bar), "bar", "ours", "eventsourcing",
"raw_insert", "ratio_vs_eventsourcing", ...}. ``--smoke``: 400 events, 4 writers, seconds.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys

# Run as a script, bench/queue.py would shadow the standard library's ``queue`` module.
sys.path[:] = [p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")]

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from rich.console import Console
from rich.table import Table

from gamestore.migrations import ensure_schema_at
from gamestore.platform.eventstore import NewEvent, connect

PROCESSES_BAR = 2600.0  # events/s appended by 8 writer processes, one event per append
DATA = {"title": "The Witcher 3", "price_cents": 9990, "genres": ["rpg", "open-world"]}
console = Console(stderr=True)


@asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    name = f"gs_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = urlsplit(admin_url)._replace(path="/" + name).geturl()
    try:
        await ensure_schema_at(url, "eventstore", migrate=True)  # as `gamestore migrate` would
        yield url
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run_writers(
    writers: int, per_writer: int, write: Callable[[int, int], Awaitable[None]]
) -> float:
    async def writer(w: int) -> None:
        for i in range(per_writer):
            await write(w, i)

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return time.perf_counter() - started


async def bench_ours(url: str, events: int, writers: int, batch: int) -> float:
    store = await connect(url)
    per_writer = events // writers // batch

    async def write(w: int, i: int) -> None:
        await store.append(
            f"game-{w}-{i}", [NewEvent(type="GameCreated", data=DATA) for _ in range(batch)]
        )

    await write(-1, -1)  # warm up the pool and the prepared statement
    elapsed = await run_writers(writers, per_writer, write)
    await store.close()
    return per_writer * writers * batch / elapsed


async def bench_raw(url: str, events: int, writers: int, batch: int) -> float:
    conn = await asyncpg.connect(url)
    await conn.execute(
        "CREATE TABLE raw_events (position bigserial PRIMARY KEY, event_id uuid NOT NULL,"
        " stream_id text NOT NULL, version int NOT NULL, type text NOT NULL, data jsonb NOT NULL)"
    )
    await conn.close()
    pool = await asyncpg.create_pool(url, min_size=writers, max_size=writers)
    payload = json.dumps(DATA)
    per_writer = events // writers // batch
    sql = (
        "INSERT INTO raw_events (event_id, stream_id, version, type, data)"
        " VALUES ($1, $2, $3, 'GameCreated', $4::jsonb)"
    )

    async def write(w: int, i: int) -> None:
        rows = [(uuid.uuid4(), f"game-{w}-{i}", n, payload) for n in range(1, batch + 1)]
        if batch == 1:
            await pool.execute(sql, *rows[0])
        else:
            async with pool.acquire() as conn, conn.transaction():
                await conn.executemany(sql, rows)

    elapsed = await run_writers(writers, per_writer, write)
    await pool.close()
    return per_writer * writers * batch / elapsed


def bench_eventsourcing(url: str, events: int, writers: int, batch: int) -> float:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parts = urlsplit(url)
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "root",
        password=parts.password or "",
        pool_size=writers,  # one connection per writer, as ours; every other setting default
    )
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    state = json.dumps(DATA).encode()
    per_writer = events // writers // batch

    def writer() -> None:
        for _ in range(per_writer):
            originator = uuid.uuid4()
            recorder.insert_events(
                [StoredEvent(originator, n, "GameCreated", state) for n in range(1, batch + 1)]
            )

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    datastore.close()
    return per_writer * writers * batch / elapsed


async def child_writer(url: str, count: int) -> None:
    """One writer process: connect, say ready, wait for go, append ``count`` events."""
    store = await connect(url)
    await store.append("warm-up", [NewEvent(type="Warm", data={})])
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    for i in range(count):
        await store.append(f"game-{os.getpid()}-{i}", [NewEvent(type="GameCreated", data=DATA)])
    await store.close()
    print("done", flush=True)


async def bench_ours_processes(url: str, events: int, writers: int) -> float:
    """Writers in separate processes, one event per append: no group commit spans processes,
    each append is its own commit, in turn on the head lock."""
    store = await connect(url)  # create the schema once
    await store.close()
    per_writer = events // writers
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            url,
            str(per_writer),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(writers)
    ]
    for child in children:
        assert child.stdout and await child.stdout.readline() == b"ready\n"
    started = time.perf_counter()
    for child in children:
        assert child.stdin
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    for child in children:
        assert child.stdout and await child.stdout.readline() == b"done\n"
    elapsed = time.perf_counter() - started
    for child in children:
        await child.wait()
    return per_writer * writers / elapsed


async def postgres_case(admin_url: str, events: int, writers: int, batch: int) -> dict[str, float]:
    figures = {}
    async with scratch_database(admin_url) as url:
        figures["ours"] = await bench_ours(url, events, writers, batch)
    async with scratch_database(admin_url) as url:
        figures["eventsourcing"] = await asyncio.to_thread(
            bench_eventsourcing, url, events, writers, batch
        )
    async with scratch_database(admin_url) as url:
        figures["raw_insert"] = await bench_raw(url, events, writers, batch)
    return figures


async def sqlite_case(events: int, writers: int, batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'events.db'}"
        await ensure_schema_at(url, "eventstore", migrate=True)
        return await bench_ours(url, events, writers, batch)


def show(title: str, rows: dict[str, dict[str, float]]) -> None:
    table = Table(title=title)
    for column in ("case", "ours", "eventsourcing", "raw INSERT", "ours/eventsourcing", "ours/raw"):
        table.add_column(column, justify="right")
    for case, f in rows.items():
        table.add_row(
            case,
            f"{f['ours']:,.0f}/s",
            f"{f['eventsourcing']:,.0f}/s",
            f"{f['raw_insert']:,.0f}/s",
            f"{f['ours'] / f['eventsourcing']:.2f}x",
            f"{f['ours'] / f['raw_insert']:.2f}x",
        )
    console.print(table)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100, help="events per append, batched case")
    parser.add_argument("--child", nargs=2, metavar=("URL", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("GAMESTORE_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1/test"),
    )
    parser.add_argument("--smoke", action="store_true", help="seconds: 400 events, 4 writers")
    args = parser.parse_args()
    if args.child:
        await child_writer(args.child[0], int(args.child[1]))
        return
    if args.smoke:
        args.events, args.writers, args.batch = 400, 4, 10

    single = await postgres_case(args.postgres, args.events, args.writers, 1)
    batched = await postgres_case(args.postgres, args.events * 10, args.writers, args.batch)
    show(
        f"PostgreSQL, {args.writers} writers, events/s",
        {"1 event/txn": single, f"{args.batch} events/txn": batched},
    )
    async with scratch_database(args.postgres) as url:
        processes = await bench_ours_processes(url, args.events // 2, args.writers)
    console.print(
        f"PostgreSQL, ours with {args.writers} writer PROCESSES (one commit per append):"
        f" {processes:,.0f} events/s at 1 event/txn (bar: {PROCESSES_BAR:,.0f}/s)"
    )
    sqlite_single = await sqlite_case(args.events // 4, args.writers, 1)
    sqlite_batched = await sqlite_case(args.events * 10, args.writers, args.batch)
    console.print(
        f"SQLite (ours): {sqlite_single:,.0f} events/s at 1 event/txn,"
        f" {sqlite_batched:,.0f} events/s at {args.batch} events/txn"
    )
    result = {
        "bench": "eventstore",
        "ratio": round(processes / PROCESSES_BAR, 2),
        "bar": PROCESSES_BAR,
        "ours": round(single["ours"]),
        "eventsourcing": round(single["eventsourcing"]),
        "raw_insert": round(single["raw_insert"]),
        "ratio_vs_eventsourcing": round(single["ours"] / single["eventsourcing"], 2),
        "ratio_vs_raw": round(single["ours"] / single["raw_insert"], 2),
        "batched_ours": round(batched["ours"]),
        "batched_eventsourcing": round(batched["eventsourcing"]),
        "batched_raw_insert": round(batched["raw_insert"]),
        "batched_ratio_vs_eventsourcing": round(batched["ours"] / batched["eventsourcing"], 2),
        "batched_ratio_vs_raw": round(batched["ours"] / batched["raw_insert"], 2),
        "ours_separate_processes": round(processes),
        "sqlite_ours": round(sqlite_single),
        "sqlite_batched_ours": round(sqlite_batched),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
