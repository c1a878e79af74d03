"""Work queue throughput and latency: enqueue → handled → ack, per adapter, in one run.

Producers enqueue N messages while a consumer (``concurrency`` handlers) drains them; the clock
runs from the first enqueue to the last handled message. Latency is enqueue time → handler start
under that load, and separately one message at a time on an idle queue.

    .venv/bin/python bench/queue.py [--messages 5000] [--concurrency 8] [--producers 16]
        [--adapters embedded,postgres,rabbitmq] [--postgres URL] [--amqp URL] [--smoke]

The last line is JSON: {"embedded_msgs_per_s", "postgres_msgs_per_s", "rabbitmq_msgs_per_s",
"<adapter>_p50_ms", "<adapter>_p99_ms", "<adapter>_idle_p50_ms", "ratio_embedded_vs_target",
"ratio_rabbitmq_vs_target", "bench", "ratio" (the lower of the two), "bar"}. ``--smoke``: 300
messages, 3 idle samples, every adapter, seconds.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys

# Run as a script, this file would shadow the standard library's ``queue`` module.
sys.path[:] = [p for p in sys.path if not p or not p.rstrip("/").endswith("/bench")]

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from rich.console import Console
from rich.table import Table

from gamestore.platform.queue import Message, WorkQueue, connect_queue

TARGETS = {"embedded": 1000.0, "rabbitmq": 3000.0}
BODY = {"payment_id": "00000000-0000-0000-0000-000000000000", "amount_cents": 9990}
console = Console(stderr=True)


@dataclass
class Result:
    adapter: str
    messages: int
    seconds: float
    latencies_ms: list[float]
    idle_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    def percentile(self, values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@asynccontextmanager
async def scratch_postgres(admin_url: str) -> AsyncIterator[str]:
    name = f"gs_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Drain:
    """A consumer that records enqueue→start latency and signals when ``expected`` are handled."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.latencies_ms: list[float] = []
        self.done = asyncio.Event()

    async def handle(self, message: Message) -> None:
        self.latencies_ms.append((time.time() - message.enqueued_at.timestamp()) * 1000)
        if len(self.latencies_ms) >= self.expected:
            self.done.set()


async def produce(queue: WorkQueue, name: str, count: int, producers: int) -> None:
    async def producer(share: int) -> None:
        for _ in range(share):
            await queue.enqueue(name, BODY)

    shares = [count // producers + (i < count % producers) for i in range(producers)]
    await asyncio.gather(*(producer(share) for share in shares))


async def throughput(queue: WorkQueue, name: str, args: argparse.Namespace) -> tuple[float, Drain]:
    drain, stop = Drain(args.messages), asyncio.Event()
    consumer = asyncio.create_task(
        queue.consume(name, drain.handle, stop=stop, concurrency=args.concurrency)
    )
    began = time.perf_counter()
    await produce(queue, name, args.messages, args.producers)
    await asyncio.wait_for(drain.done.wait(), 600)
    seconds = time.perf_counter() - began
    stop.set()
    await consumer
    return seconds, drain


async def idle_latency(queue: WorkQueue, name: str, samples: int) -> list[float]:
    latencies: list[float] = []
    for _ in range(samples):
        drain, stop = Drain(1), asyncio.Event()
        consumer = asyncio.create_task(queue.consume(name, drain.handle, stop=stop))
        await asyncio.sleep(random.uniform(0.03, 0.08))  # idle consumer, at a random poll phase
        await queue.enqueue(name, BODY)
        await asyncio.wait_for(drain.done.wait(), 10)
        stop.set()
        await consumer
        latencies += drain.latencies_ms
    return latencies


async def measure(adapter: str, url: str, args: argparse.Namespace) -> Result:
    queue = await connect_queue(url)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        seconds, drain = await throughput(queue, name, args)
        idle = await idle_latency(queue, name, args.idle_samples)
        assert await queue.pending(name) == 0, "messages left behind"
    finally:
        if hasattr(queue, "drop"):
            await queue.drop(name)
        await queue.close()
    return Result(adapter, args.messages, seconds, drain.latencies_ms, idle)


async def run(args: argparse.Namespace) -> list[Result]:
    results = []
    for adapter in args.adapters.split(","):
        console.print(f"[bold]{adapter}[/]: {args.messages} messages …")
        if adapter == "embedded":
            with tempfile.TemporaryDirectory() as tmp:
                results.append(await measure(adapter, f"sqlite:///{Path(tmp) / 'q.db'}", args))
        elif adapter == "postgres":
            async with scratch_postgres(args.postgres) as url:
                results.append(await measure(adapter, url, args))
        elif adapter == "rabbitmq":
            results.append(await measure(adapter, args.amqp, args))
        else:
            raise SystemExit(f"unknown adapter {adapter!r}")
    return results


def report(results: list[Result], args: argparse.Namespace) -> dict[str, Any]:
    table = Table(title=f"work queue: {args.messages} msgs, concurrency {args.concurrency}")
    for column in ("adapter", "msg/s", "target", "p50 ms", "p99 ms", "idle p50 ms"):
        table.add_column(column, justify="right")
    summary: dict[str, Any] = {"bench": "queue", "messages": args.messages}
    summary["concurrency"] = args.concurrency
    for r in results:
        p50, p99 = r.percentile(r.latencies_ms, 50), r.percentile(r.latencies_ms, 99)
        idle = statistics.median(r.idle_ms)
        target = TARGETS.get(r.adapter)
        table.add_row(r.adapter, f"{r.per_second:,.0f}", f"{target:,.0f}" if target else "-",
                      f"{p50:.1f}", f"{p99:.1f}", f"{idle:.1f}")  # fmt: skip
        summary |= {f"{r.adapter}_msgs_per_s": round(r.per_second, 1)}
        summary |= {f"{r.adapter}_p50_ms": round(p50, 2), f"{r.adapter}_p99_ms": round(p99, 2)}
        summary |= {f"{r.adapter}_idle_p50_ms": round(idle, 2)}
        if target:
            summary[f"ratio_{r.adapter}_vs_target"] = round(r.per_second / target, 2)
    console.print(table)
    ratios = [v for k, v in summary.items() if k.startswith("ratio_")]
    return summary | {"ratio": min(ratios, default=0.0), "bar": TARGETS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--producers", type=int, default=16)
    parser.add_argument("--idle-samples", type=int, default=30)
    parser.add_argument("--adapters", default="embedded,postgres,rabbitmq")
    parser.add_argument("--postgres", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--smoke", action="store_true", help="seconds: 300 messages")
    args = parser.parse_args()
    if args.smoke:
        args.messages, args.idle_samples = 300, 3
    results = asyncio.run(run(args))
    print(json.dumps(report(results, args)))


if __name__ == "__main__":
    main()
