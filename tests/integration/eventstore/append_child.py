"""One writer process: appends ``count`` events one at a time through the event store, then
prints their ids, one per line.

Usage: python append_child.py <event-store-url> <count> <seed>
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[3]))

from gamestore.platform.eventstore import NewEvent, connect


async def main(url: str, count: int, seed: int) -> None:
    store = await connect(url)
    try:
        for n in range(count):
            [recorded] = await store.append(f"p-{seed}", [NewEvent("E", {"n": n})])
            print(recorded.event_id, flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
