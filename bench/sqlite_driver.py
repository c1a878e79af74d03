"""SQLite under SQLAlchemy's async engine: aiosqlite (a thread hop per call) vs inline_sqlite.

    .venv/bin/python bench/sqlite_driver.py [--transactions 2000] [--smoke]

Each transaction is what a service does on a request: BEGIN IMMEDIATE, INSERT, SELECT by key,
UPDATE, COMMIT, through ``platform.db``-style engines on a WAL file. Printed: CPU and wall time
per transaction for each driver (two rounds each, interleaved), and the ratio inline/aiosqlite
of CPU per transaction (lower is better, bar: below 1) as the last line, JSON. ``--smoke``:
100 transactions.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys

sys.path[:] = [
    p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")
]  # bench/queue.py

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import Column, Integer, MetaData, String, Table, event, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import inline_sqlite

metadata = MetaData()
rows = Table(
    "rows",
    metadata,
    Column("id", String, primary_key=True),
    Column("n", Integer),
    Column("s", String),
)


def engine_for(path: Path, driver: str) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{path}"
    if driver == "inline":
        engine = create_async_engine(
            url, async_creator=lambda: inline_sqlite.connect(path), pool_size=1, max_overflow=0
        )
    else:
        engine = create_async_engine(url, connect_args={"timeout": 30, "isolation_level": None})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(conn: Any, _: Any) -> None:
        cursor = conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def measure(driver: str, transactions: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        engine = engine_for(Path(directory) / "bench.db", driver)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(transactions):
            key = uuid.uuid4().hex
            async with engine.begin() as conn:
                await conn.execute(rows.insert().values(id=key, n=i, s="x" * 50))
                (await conn.execute(select(rows).where(rows.c.id == key))).one()
                await conn.execute(rows.update().where(rows.c.id == key).values(n=i + 1))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await engine.dispose()
    return {"cpu_ms": 1000 * cpu / transactions, "wall_ms": 1000 * wall / transactions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="a second: 100 transactions")
    args = parser.parse_args()
    if args.smoke:
        args.transactions = 100
    results: dict[str, list[dict[str, float]]] = {"aiosqlite": [], "inline": []}
    for _ in range(2):
        for driver in results:
            result = uvloop.run(measure(driver, args.transactions))
            results[driver].append(result)
            print(
                f"{driver:<10} {result['cpu_ms']:.3f} ms CPU / transaction,"
                f" {result['wall_ms']:.3f} ms wall"
            )
    best = {driver: min(r["cpu_ms"] for r in runs) for driver, runs in results.items()}
    summary = {
        "bench": "sqlite_driver",
        "cpu_ms_per_transaction": {k: round(v, 3) for k, v in best.items()},
        "ratio_inline_vs_aiosqlite": round(best["inline"] / best["aiosqlite"], 2),
        "ratio": round(best["inline"] / best["aiosqlite"], 2),
        "bar": 1.0,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
