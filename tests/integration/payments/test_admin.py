"""Admin routes: the payment queue's dead letters and the event log; players get 403."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from gamestore.payments.dispatcher import PAYMENT_QUEUE
from gamestore.platform.bus import Backoff, connect_bus
from gamestore.platform.eventstore import NO_STREAM, NewEvent, RecordedEvent
from gamestore.platform.queue import Message, PermanentError
from tests.integration.games.support import problem
from tests.integration.payments.support import PaymentsApi, sqlite_only

ADMIN_ROUTES = [
    ("GET", "/admin/dlq"),
    ("POST", f"/admin/dlq/{uuid.uuid4()}/replay"),
    ("DELETE", f"/admin/dlq/{uuid.uuid4()}"),
    ("GET", "/admin/events"),
]


@sqlite_only
@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_players_get_403_and_strangers_401(api: PaymentsApi, method: str, path: str) -> None:
    problem(await api.client.request(method, path, headers=api.player(str(uuid.uuid4()))), 403)
    problem(await api.client.request(method, path), 401)


async def dead_letter(api: PaymentsApi, payment_id: str) -> None:
    """A payment command that failed for good, as the worker leaves it."""
    queue = api.service.queue
    await queue.enqueue(PAYMENT_QUEUE, {"payment_id": payment_id}, message_id=payment_id)
    stop = asyncio.Event()

    async def refuse(message: Message) -> None:
        stop.set()
        raise PermanentError("psp down")

    await asyncio.wait_for(queue.consume(PAYMENT_QUEUE, refuse, stop=stop), 10)
    for _ in range(200):
        if await queue.dead_letters(PAYMENT_QUEUE):
            return
        await asyncio.sleep(0.02)


async def test_dead_letters_list_replay_discard(api: PaymentsApi) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await dead_letter(api, first)
    await dead_letter(api, second)
    listed = (await api.client.get("/admin/dlq", headers=api.admin)).json()
    assert listed["total"] == 2
    letter = next(item for item in listed["items"] if item["id"] == first)
    assert letter["queue"] == PAYMENT_QUEUE and letter["message"] == {"payment_id": first}
    assert "psp down" in letter["error"] and letter["dead_lettered_at"].endswith("Z")
    replay = await api.client.post(f"/admin/dlq/{first}/replay", headers=api.admin)
    assert replay.status_code == 202
    assert await api.service.queue.pending(PAYMENT_QUEUE) == 1
    problem(await api.client.post(f"/admin/dlq/{first}/replay", headers=api.admin), 404)
    assert (await api.client.delete(f"/admin/dlq/{second}", headers=api.admin)).status_code == 204
    problem(await api.client.delete(f"/admin/dlq/{second}", headers=api.admin), 404)
    assert (await api.client.get("/admin/dlq", headers=api.admin)).json()["total"] == 0


async def bus_dead_letter(api: PaymentsApi, group: str) -> RecordedEvent:
    """An event a consumer group of the bus gave up on, as a failing handler leaves it."""
    [event] = await api.service.store.append(f"s-{group}", [NewEvent("Poison", {"n": 1})])
    bus = await connect_bus("embedded", api.service.store, backoff=Backoff(0.001, 0.002))
    stop = asyncio.Event()

    async def refuse(_: RecordedEvent) -> None:
        stop.set()
        raise ValueError("cannot handle it")

    await asyncio.wait_for(bus.consume(group, ["Poison"], refuse, stop=stop, max_attempts=1), 10)
    await bus.close()
    return event


@sqlite_only
async def test_bus_dead_letters_are_listed_beside_the_queue_s_and_replayed(
    api: PaymentsApi,
) -> None:
    payment_id = str(uuid.uuid4())
    await dead_letter(api, payment_id)
    event = await bus_dead_letter(api, "notifier")
    listed = (await api.client.get("/admin/dlq", headers=api.admin)).json()
    assert listed["total"] == 2
    by_source = {item["source"]: item for item in listed["items"]}
    assert by_source["queue"]["id"] == payment_id
    bus = by_source["bus"]
    assert bus["queue"] == "notifier" and bus["message"]["event_id"] == str(event.event_id)
    assert "ValueError: cannot handle it" in bus["error"]
    assert bus["correlation_id"] == event.correlation_id
    only_bus = await api.client.get("/admin/dlq", params={"source": "bus"}, headers=api.admin)
    assert [item["id"] for item in only_bus.json()["items"]] == [bus["id"]]
    replay = await api.client.post(f"/admin/dlq/{bus['id']}/replay", headers=api.admin)
    assert replay.status_code == 202
    after = (await api.client.get("/admin/dlq", headers=api.admin)).json()
    assert [item["source"] for item in after["items"]] == ["queue"]


async def test_events_in_global_order_with_filters(api: PaymentsApi) -> None:
    store = api.service.store
    for n in range(5):
        kind = "Even" if n % 2 == 0 else "Odd"
        corr = "corr-x" if n in (1, 4) else "corr-y"
        await store.append(f"s-{n % 2}", [NewEvent(kind, {"n": n}, correlation_id=corr)])

    async def page(**params: str | int) -> dict[str, Any]:
        response = await api.client.get("/admin/events", params=params, headers=api.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def numbers(body: dict[str, Any]) -> list[int]:
        return [item["data"]["n"] for item in body["items"]]

    everything = await page()
    assert numbers(everything) == [0, 1, 2, 3, 4] and everything["next_after"] == 5
    item = everything["items"][0]
    assert set(item) == {
        "event_id", "stream_id", "version", "position", "type", "occurred_at",
        "correlation_id", "causation_id", "data",
    }  # fmt: skip
    first_two = await page(limit=2)
    assert numbers(first_two) == [0, 1] and first_two["next_after"] == 2
    assert numbers(await page(after=2, limit=2)) == [2, 3]
    assert numbers(await page(stream="s-0")) == [0, 2, 4]
    assert numbers(await page(stream="s-0", after=1, limit=1)) == [2]
    assert numbers(await page(type="Odd")) == [1, 3]
    assert numbers(await page(correlation_id="corr-x")) == [1, 4]
    assert numbers(await page(stream="s-1", type="Odd", correlation_id="corr-y")) == [3]
    nothing = await page(after=5)
    assert numbers(nothing) == [] and nothing["next_after"] == 5
    below = await page(before=4)
    assert numbers(below) == [0, 1, 2] and below["next_after"] == 3
    assert numbers(await page(after=1, before=4, type="Odd")) == [1]
    assert numbers(await page(stream="s-0", before=5)) == [0, 2]
    end = await page(after=3, before=4)
    assert numbers(end) == [] and end["next_after"] == 3
    assert numbers(await page(stream="nope")) == []


async def test_events_newest_first_with_filters_and_older_pages(api: PaymentsApi) -> None:
    store = api.service.store
    for n in range(5):
        kind = "Even" if n % 2 == 0 else "Odd"
        corr = "corr-x" if n in (1, 4) else "corr-y"
        await store.append(f"s-{n % 2}", [NewEvent(kind, {"n": n}, correlation_id=corr)])

    async def page(**params: str | int) -> dict[str, Any]:
        params = {"order": "desc", **params}
        response = await api.client.get("/admin/events", params=params, headers=api.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def numbers(body: dict[str, Any]) -> list[int]:
        return [item["data"]["n"] for item in body["items"]]

    everything = await page()
    assert numbers(everything) == [4, 3, 2, 1, 0]
    assert everything["next_before"] is None and everything["next_after"] == 5
    newest_two = await page(limit=2)
    assert numbers(newest_two) == [4, 3] and newest_two["next_before"] == 4
    older = await page(before=newest_two["next_before"], limit=2)
    assert numbers(older) == [2, 1] and older["next_before"] == 2
    last = await page(before=older["next_before"], limit=2)
    assert numbers(last) == [0] and last["next_before"] is None
    assert numbers(await page(stream="s-0")) == [4, 2, 0]
    stream_page = await page(stream="s-0", before=5, limit=1)
    assert numbers(stream_page) == [2] and stream_page["next_before"] == 3
    assert numbers(await page(type="Odd")) == [3, 1]
    assert numbers(await page(correlation_id="corr-x")) == [4, 1]
    assert numbers(await page(stream="s-1", type="Odd", correlation_id="corr-y")) == [3]
    assert numbers(await page(stream="nope")) == [] and (await page(before=1))["items"] == []


async def test_events_newest_first_on_an_empty_store(api: PaymentsApi) -> None:
    response = await api.client.get("/admin/events", params={"order": "desc"}, headers=api.admin)

    assert response.json() == {"items": [], "next_after": 0, "next_before": None}


async def test_events_newest_first_go_past_one_read_batch(api: PaymentsApi) -> None:
    events = [NewEvent("E", {"n": n}) for n in range(1500)]
    for start in range(0, 1500, 500):
        await api.service.store.append(f"big-{start}", events[start : start + 500])
    seen: list[int] = []
    before: int | None = None
    while True:
        params: dict[str, Any] = {"order": "desc", "limit": 1000}
        if before is not None:
            params["before"] = before
        body = (await api.client.get("/admin/events", params=params, headers=api.admin)).json()
        seen += [item["data"]["n"] for item in body["items"]]
        before = body["next_before"]
        if before is None:
            break

    assert seen == list(range(1499, -1, -1))


@sqlite_only
@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"after": -1},
        {"type": ""},
        {"stream": "x" * 256},
        {"order": "up"},
        {"order": "desc", "before": -1},
    ],
)
async def test_events_bad_parameters_are_422(api: PaymentsApi, params: dict[str, Any]) -> None:
    problem(await api.client.get("/admin/events", params=params, headers=api.admin), 422)


async def test_a_stream_with_many_events(api: PaymentsApi) -> None:
    await api.service.store.append("big", [NewEvent("E", {"n": n}) for n in range(30)], NO_STREAM)
    response = await api.client.get(
        "/admin/events", params={"stream": "big", "after": 10, "limit": 5}, headers=api.admin
    )
    body = response.json()
    assert [e["version"] for e in body["items"]] == [11, 12, 13, 14, 15]
    assert body["next_after"] == 15
