"""The real notifier process, SIGKILLed mid-stream and restarted: every event gets exactly one
notification and one NotificationSent (PostgreSQL, where a dead member's lease ends with it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gamestore.migrations import upgrade
from gamestore.notifications.tables import notifications, outbox
from gamestore.platform.db import create_engine
from gamestore.platform.eventstore import ANY, EventStore, NewEvent, RecordedEvent, connect
from tests.integration.notifications.support import (
    eventually,
    purchase_completed,
    sent_events,
    user_registered,
)

CHILD = Path(__file__).with_name("notifier_child.py")
USERS = 6
PER_USER = 100  # 600 events, several pages of the bus: the kill lands mid-stream


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment(root: Path, database: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMESTORE_")}
    env.update(
        GAMESTORE_DATA_DIR=str(root / "data"),
        GAMESTORE_LOG_DIR=str(root / "logs"),
        GAMESTORE_EVENTSTORE_URL=database,
        GAMESTORE_NOTIFIER_DB_URL=database,
        GAMESTORE_NOTIFIER_URL=f"http://127.0.0.1:{port}",
        GAMESTORE_USERS_URL="http://127.0.0.1:9",  # no users service: every token is refused
    )
    return env


@contextmanager
def notifier_process(env: dict[str, str], root: Path) -> Iterator[subprocess.Popen[bytes]]:
    with (root / "notifier.out").open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, str(CHILD)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(notifications)) or 0)


async def _events(store: EventStore) -> list[NewEvent]:
    """A welcome and PER_USER purchases per user, appended a user's stream at a time."""
    events: list[NewEvent] = []
    for _ in range(USERS):
        user = str(uuid.uuid4())
        batch = [user_registered(user)] + [purchase_completed(user) for _ in range(PER_USER)]
        await store.append(f"user-{user}", batch, ANY)
        events += batch
    return events


async def test_a_killed_notifier_notifies_every_event_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    store = await connect(postgres_url)
    engine = create_engine(postgres_url)
    await upgrade(engine, "notifier")
    env = _environment(tmp_path, postgres_url, _free_port())
    try:
        events = await _events(store)
        with notifier_process(env, tmp_path) as first:
            seen = await eventually(lambda: _count(engine), lambda n: n >= 20, timeout=30)
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        assert seen < len(events), "the notifier finished before it was killed: kill it sooner"

        with notifier_process(env, tmp_path) as second:
            await eventually(lambda: _count(engine), lambda n: n >= len(events), timeout=60)
            sent = await eventually(
                lambda: sent_events(store), lambda s: len(s) >= len(events), timeout=30
            )
            await _check_http(env["GAMESTORE_NOTIFIER_URL"])
            second.send_signal(signal.SIGTERM)
            assert second.wait(15) == 0

        await _check_exactly_once(engine, events, sent)
        log = (tmp_path / "logs" / "notifier.log").read_text()
        last = events[-1]
        assert f"corr={last.correlation_id} notification sent " in log
        assert "type=purchase_completed cause=PurchaseCompleted" in log
    finally:
        await engine.dispose()
        await store.close()


async def _check_http(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/notificacoes")).status_code == 401


async def _check_exactly_once(
    engine: AsyncEngine, events: list[NewEvent], sent: list[RecordedEvent]
) -> None:
    """One notification per event, one NotificationSent per notification, an empty outbox."""
    causes = sorted(str(e.event_id) for e in events)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(notifications.c.cause_event_id))).scalars().all()
        assert (await conn.execute(outbox.table.select())).all() == []
    assert sorted(rows) == causes
    assert sorted(e.data["cause_event_id"] for e in sent) == causes
