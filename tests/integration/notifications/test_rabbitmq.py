"""The notifier on the RabbitMQ bus (the production adapter): each event → one notification,
a poison event to the group's dead letters."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from gamestore.notifications.bootstrap import build
from gamestore.platform.bus import Backoff, connect_bus
from gamestore.platform.config import Settings
from tests.integration.bus.support import delete_rabbit_topology, wait_for_rabbit_consumer
from tests.integration.games.support import Issuer
from tests.integration.notifications.support import (
    eventually,
    notification_rows,
    payment_failed,
    purchase_completed,
    record,
    sent_events,
    user_registered,
)


async def test_notifications_over_rabbitmq(
    amqp_url: str, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAMESTORE_NOTIFIER_DB_URL", f"sqlite:///{tmp_path / 'notifier.db'}")
    settings = Settings(data_dir=tmp_path, eventstore_url=f"sqlite:///{tmp_path / 'events.db'}")
    exchange, group = f"gs-test-{unique}", f"notifier-{unique}"
    options: dict[str, Any] = {"exchange": exchange, "backoff": Backoff(0.01, 0.05)}
    stop = asyncio.Event()
    try:
        async with build(settings, verifier=Issuer().verifier()) as service:
            bus = await connect_bus(amqp_url, service.store, **options)
            tasks = [
                asyncio.create_task(bus.run_publisher(stop=stop)),
                asyncio.create_task(
                    service.notifier.consume(bus, stop, group=group, max_attempts=2)
                ),
            ]
            await wait_for_rabbit_consumer(amqp_url, f"gamestore.{group}")
            user = str(uuid.uuid4())
            causes = await record(
                service.store,
                user_registered(user, "Ana"),
                purchase_completed("not-a-user"),
                purchase_completed(user, "Hades"),
                payment_failed(user, "card_declined", "Celeste"),
            )
            rows = await eventually(
                lambda: notification_rows(service.engine), lambda r: len(r) >= 3
            )
            await eventually(lambda: sent_events(service.store), lambda s: len(s) >= 3)
            dead = await eventually(lambda: bus.dead_letters(group), lambda d: len(d) >= 1)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)
            await bus.close()
    finally:
        stop.set()
        await delete_rabbit_topology(amqp_url, exchange, [group])

    assert sorted(r["cause_event_id"] for r in rows) == sorted(
        str(c.event_id) for c in causes if c.data["user_id"] == user
    )
    assert [d.message["event_id"] for d in dead] == [str(causes[1].event_id)]
