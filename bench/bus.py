"""Event bus throughput and wake-up latency, per adapter.

Throughput: N events are appended while one consumer group drains them (a no-op handler);
the clock runs from the first append to the last handled event. Latency: one event at a time
on an idle group, append → handler start.

    .venv/bin/python bench/bus.py [--events 2000] [--samples 50]
        [--adapters embedded-sqlite,embedded-postgres,rabbitmq] [--postgres URL] [--amqp URL]
        [--smoke]

Judged by the slowest adapter's idle wake-up p99 against a 50 ms ceiling (an event is handled
about as soon as it is appended, whatever the adapter). The last line is JSON:
{"bench", "ratio", "bar", "<adapter>_events_per_s", "<adapter>_idle_p50_ms",
"<adapter>_idle_p99_ms"}. ``--smoke``: 100 events, 5 samples, every adapter, seconds.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys

# Run as a script, bench/ comes first on sys.path and bench/queue.py would shadow ``queue``.
sys.path[:] = [p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")]

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg

from gamestore.platform.bus import Backoff, EventBus, connect_bus
from gamestore.platform.eventstore import EventStore, NewEvent, RecordedEvent, connect


@asynccontextmanager
async def store_url(adapter: str, postgres: str, tmp: Path) -> AsyncIterator[str]:
    if adapter != "embedded-postgres":
        yield f"sqlite:///{tmp / f'{adapter}.db'}"
        return
    name = f"gs_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def measure(bus: EventBus, writer: EventStore, group: str, args: Any) -> dict[str, float]:
    started: dict[int, float] = {}
    progress = asyncio.Event()

    async def handle(event: RecordedEvent) -> None:
        started[event.data["n"]] = time.perf_counter()
        progress.set()

    async def until(handled: Callable[[], bool]) -> None:
        while not handled():
            progress.clear()  # no await since the check: no wake-up can slip between
            await progress.wait()

    stop = asyncio.Event()
    consumer = asyncio.create_task(bus.consume(group, {"Bench"}, handle, stop=stop))
    await asyncio.sleep(1.0)  # the group's queue is declared and the consumer is idle
    begin = time.perf_counter()
    await asyncio.gather(*(_append(writer, n) for n in range(args.events)))
    await until(lambda: len(started) >= args.events)
    rate = args.events / (max(started.values()) - begin)

    latencies = []
    for n in range(args.events, args.events + args.samples):
        appended = time.perf_counter()
        await _append(writer, n)
        await until(lambda n=n: n in started)  # type: ignore[misc]
        latencies.append(started[n] - appended)
    stop.set()
    await consumer
    cuts = statistics.quantiles(latencies, n=100)
    return {"events_per_s": rate, "idle_p50_ms": cuts[49] * 1000, "idle_p99_ms": cuts[98] * 1000}


async def _append(store: EventStore, n: int) -> None:
    await store.append(f"bench-{n % 50}", [NewEvent(type="Bench", data={"n": n})])


async def run(adapter: str, args: Any, tmp: Path) -> dict[str, float]:
    async with store_url(adapter, args.postgres, tmp) as url:
        writer, reader = await connect(url), await connect(url)
        bus_url = args.amqp if adapter == "rabbitmq" else "embedded"
        exchange = f"gs-bench-{uuid.uuid4().hex[:8]}"
        options = {"exchange": exchange} if adapter == "rabbitmq" else {}
        bus = await connect_bus(bus_url, reader, backoff=Backoff(), **options)
        stop = asyncio.Event()
        publisher = asyncio.create_task(bus.run_publisher(stop=stop))
        try:
            return await measure(bus, writer, f"bench-{exchange}", args)
        finally:
            stop.set()
            await publisher
            await bus.close()
            await writer.close()
            await reader.close()
            if adapter == "rabbitmq":
                await _cleanup(args.amqp, exchange, f"bench-{exchange}")


async def _cleanup(amqp: str, exchange: str, group: str) -> None:
    connection = await aio_pika.connect(amqp)
    channel = await connection.channel()
    for queue in (f"gamestore.{group}", f"gamestore.{group}.dlq"):
        await channel.queue_delete(queue)
    for name in (exchange, f"{exchange}.dlx"):
        await channel.exchange_delete(name)
    await connection.close()


IDLE_P99_CEILING_MS = 50.0


async def main(args: Any) -> None:
    results: dict[str, Any] = {"bench": "bus"}
    with tempfile.TemporaryDirectory() as tmp:
        for adapter in args.adapters.split(","):
            figures = await run(adapter, args, Path(tmp))
            print(adapter, {k: round(v, 1) for k, v in figures.items()})
            results.update({f"{adapter}_{k}": round(v, 1) for k, v in figures.items()})
    worst = max(v for k, v in results.items() if k.endswith("_idle_p99_ms"))
    results |= {"ratio": round(worst / IDLE_P99_CEILING_MS, 2), "bar": IDLE_P99_CEILING_MS}
    print(json.dumps(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--adapters", default="embedded-sqlite,embedded-postgres,rabbitmq")
    parser.add_argument("--postgres", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--smoke", action="store_true", help="seconds: 100 events, 5 samples")
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.events, arguments.samples = 100, 5
    asyncio.run(main(arguments))
