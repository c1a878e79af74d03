"""The real ``bus-publisher`` process moves events from the event store to RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aio_pika

from gamestore.platform.eventstore import NewEvent, connect


async def test_serve_bus_publisher_publishes_appended_events(
    tmp_path: Path, amqp_url: str, unique: str
) -> None:
    env = {
        **os.environ,
        "GAMESTORE_DATA_DIR": str(tmp_path / "data"),
        "GAMESTORE_LOG_DIR": str(tmp_path / "logs"),
        "GAMESTORE_BUS_URL": amqp_url,
    }
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        "gamestore.events", aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"test.{unique}", exclusive=True, auto_delete=True)
    await queue.bind(exchange, routing_key="GameCreated")

    store = await connect(f"sqlite:///{tmp_path / 'data' / 'events.db'}")
    stream = f"game-{unique}"
    await store.append(stream, [NewEvent(type="GameCreated", data={"title": "Hades"})])
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gamestore", "serve", "bus-publisher", env=env
    )
    try:
        message = None
        for _ in range(200):
            message = await queue.get(no_ack=True, fail=False)
            if message is not None:
                break
            await asyncio.sleep(0.05)
        assert message is not None, "the publisher did not publish the event"
        envelope = json.loads(message.body)
        assert (envelope["stream_id"], envelope["type"]) == (stream, "GameCreated")
        assert envelope["data"] == {"title": "Hades"}
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
        await store.close()
        await connection.close()
    log = (tmp_path / "logs" / "bus-publisher.log").read_text()
    assert " INFO bus-publisher corr=" in log
