"""A consumer process for the crash test (run with ``sys.executable``; not a test module).

Its handler commits an idempotent effect (one row per message id in ``effects``, plus a row per
delivery in ``deliveries``) and then, on the message named by ``--kill-on``, SIGKILLs its own
process: the effect is committed but the message is never acked.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3

from gamestore.platform.queue import Message, RetryPolicy, connect_queue

SCHEMA = """
CREATE TABLE IF NOT EXISTS effects (message_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS deliveries (message_id TEXT NOT NULL, attempts INTEGER NOT NULL,
                                       pid INTEGER NOT NULL);
"""


def open_results(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    return conn


def record(conn: sqlite3.Connection, message: Message) -> int:
    """Commit the effect (idempotent) and the delivery log in one transaction; effects so far."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO deliveries (message_id, attempts, pid) VALUES (?, ?, ?)",
        (message.id, message.attempts, os.getpid()),
    )
    conn.execute("INSERT OR IGNORE INTO effects (message_id) VALUES (?)", (message.id,))
    conn.execute("COMMIT")
    return int(conn.execute("SELECT count(*) FROM effects").fetchone()[0])


async def main(args: argparse.Namespace) -> None:
    options = {"lease_timeout": args.lease_timeout} if args.url.startswith("sqlite") else {}
    queue = await connect_queue(args.url, **options)
    results = open_results(args.results)
    stop = asyncio.Event()

    async def handle(message: Message) -> None:
        done = record(results, message)
        if message.id == args.kill_on:
            os.kill(os.getpid(), signal.SIGKILL)  # after the effect, before the ack
        if done >= args.expect:
            stop.set()

    policy = RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2)
    await queue.consume(args.queue, handle, stop=stop, policy=policy, concurrency=4)
    await queue.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--kill-on", default=None)
    parser.add_argument("--lease-timeout", type=float, default=1.0)
    asyncio.run(main(parser.parse_args()))
