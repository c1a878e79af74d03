"""A consumer process that hangs right after committing one event's effect, to be SIGKILLed
before its checkpoint or ack — or, with ``die``, that kills itself on that event every time.

Usage: python crash_child.py '<json: bus_url, store_url, consumer_db_url, group, crash_n, options>'
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[3]))

from gamestore.platform.bus import Backoff, connect_bus
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import RecordedEvent, connect
from tests.integration.bus.support import logged_idempotent

COMMITTED = "effect committed"


async def main(args: dict[str, object]) -> None:
    store = await connect(str(args["store_url"]))
    options = dict(args["options"])  # type: ignore[call-overload]
    bus = await connect_bus(str(args["bus_url"]), store, backoff=Backoff(0.01, 0.05), **options)
    handle = logged_idempotent(create_engine(str(args["consumer_db_url"])), str(args["group"]))

    async def handle_then_hang(event: RecordedEvent) -> None:
        if args.get("die") and event.data["n"] == args["crash_n"]:
            os.kill(os.getpid(), signal.SIGKILL)  # a poison event: it kills every consumer
        await handle(event)
        if event.data["n"] == args["crash_n"]:
            print(COMMITTED, flush=True)
            await asyncio.sleep(3600)  # the parent kills us here: no checkpoint, no ack

    group = str(args["group"])
    await bus.consume(group, {"A"}, handle_then_hang, stop=asyncio.Event(), max_attempts=3)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
