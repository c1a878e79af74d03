"""Events leave through the outbox; no password, hash or token reaches an event or a log."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gamestore.platform import logs
from gamestore.platform.eventstore import EventStore, RecordedEvent
from tests.integration.users.support import PASSWORD, UsersApi


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = logs.configure("users", tmp_path / "logs", "DEBUG", stderr=False)
    yield path
    root = logging.getLogger("gamestore")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()


async def events_of(store: EventStore, stream: str, count: int) -> list[RecordedEvent]:
    """The stream once the relay moved ``count`` events (polled with a deadline)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        events = await store.read_stream(stream)
        if len(events) >= count or asyncio.get_running_loop().time() > deadline:
            return events
        await asyncio.sleep(0.02)


async def test_register_update_delete_are_events_on_the_users_stream(api: UsersApi) -> None:
    player = await api.player()
    path = f"/users/{player.id}"
    await api.client.put(path, json={"name": "Grace"}, headers=player.headers)
    response = await api.client.delete(
        path, headers={**player.headers, "X-Request-ID": "req-delete-1"}
    )
    assert response.status_code == 204

    events = await events_of(api.service.store, f"user-{player.id}", 3)

    assert [e.type for e in events] == ["UserRegistered", "UserUpdated", "UserDeleted"]
    assert [e.version for e in events] == [1, 2, 3]
    assert events[0].data["email"] == player.email and events[0].data["role"] == "player"
    assert events[1].data["changed"] == ["name"] and events[1].data["name"] == "Grace"
    assert events[2].data["user_id"] == player.id
    assert events[2].correlation_id == "req-delete-1"


async def test_an_update_that_changes_nothing_is_no_event(api: UsersApi) -> None:
    player = await api.player()
    await api.client.put(f"/users/{player.id}", json={"name": "Ada"}, headers=player.headers)
    await api.client.put(f"/users/{player.id}", json={"name": "Bob"}, headers=player.headers)

    events = await events_of(api.service.store, f"user-{player.id}", 2)

    assert [e.type for e in events] == ["UserRegistered", "UserUpdated"]


async def test_no_secret_in_any_event_or_log_line(api: UsersApi, log_file: Path) -> None:
    player = await api.player()
    new_password = "Ch4nged-secret!"
    await api.client.put(
        f"/users/{player.id}",
        json={"password": new_password, "current_password": PASSWORD},
        headers=player.headers,
    )
    tokens = (await api.login(player.email, new_password)).json()
    await api.refresh(tokens["refresh_token"])
    await api.refresh(tokens["refresh_token"])  # reuse: logged as a warning
    await api.login(player.email, "Wr0ng-but-logged?")
    admin = await api.admin()
    await api.client.delete(f"/users/{player.id}", headers=admin.headers)
    events = await events_of(api.service.store, f"user-{player.id}", 3)

    recorded = json.dumps([e.envelope() for e in await api.service.store.read_all()], default=str)
    logged = log_file.read_text()  # noqa: ASYNC240 (a small file, read once)
    assert "UserUpdated" in recorded and "login failed" in logged and "reused" in logged
    assert any(e.data.get("changed") == ["password"] for e in events)
    secrets = [PASSWORD, new_password, "Wr0ng-but-logged?", "$argon2id$"]
    secrets += [tokens["refresh_token"], tokens["access_token"], player.access_token]
    for secret in secrets:
        assert secret not in recorded
        assert secret not in logged
    assert player.email not in logged  # failed logins name the email by a hash only
