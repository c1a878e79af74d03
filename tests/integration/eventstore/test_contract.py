"""The event store contract: every adapter (SQLite, PostgreSQL) passes this same suite."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from gamestore.platform.eventstore import (
    ANY,
    NO_STREAM,
    DuplicateEventMismatch,
    EventStore,
    NewEvent,
    RecordedEvent,
    WrongExpectedVersion,
    connect,
)
from gamestore.platform.logs import correlation


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    store = await connect(database_url)
    yield store
    await store.close()


async def test_a_store_tells_the_database_it_lives_in(store: EventStore, database_url: str) -> None:
    assert store.url == database_url  # tables kept next to the log (leases, dead letters) use it


def event(kind: str = "GameCreated", **data: object) -> NewEvent:
    return NewEvent(type=kind, data=data)


async def test_append_to_new_stream_starts_at_version_one(store: EventStore) -> None:
    recorded = await store.append("game-1", [event(title="Celeste")], expected_version=NO_STREAM)

    assert [(r.stream_id, r.version, r.position) for r in recorded] == [("game-1", 1, 1)]
    assert recorded[0].data == {"title": "Celeste"}
    assert recorded[0].occurred_at.tzinfo is not None


async def test_a_batch_gets_consecutive_versions_and_positions(store: EventStore) -> None:
    await store.append("other", [event()])
    recorded = await store.append("game-1", [event(n=1), event(n=2), event(n=3)])

    assert [r.version for r in recorded] == [1, 2, 3]
    assert [r.position for r in recorded] == [2, 3, 4]


async def test_read_stream_returns_events_in_version_order(store: EventStore) -> None:
    await store.append("game-1", [event(n=1)])
    await store.append("game-2", [event(n=9)])
    await store.append("game-1", [event(n=2)], expected_version=1)

    events = await store.read_stream("game-1")
    assert [e.data["n"] for e in events] == [1, 2]
    assert [e.data["n"] for e in await store.read_stream("game-1", from_version=2)] == [2]
    assert await store.read_stream("nobody") == []


async def test_read_all_pages_in_global_order(store: EventStore) -> None:
    for n in range(7):
        await store.append(f"s-{n % 3}", [event(n=n)])

    first = await store.read_all(after=0, limit=4)
    rest = await store.read_all(after=first[-1].position, limit=100)

    assert [e.data["n"] for e in first + rest] == list(range(7))
    assert [e.position for e in first + rest] == list(range(1, 8))
    assert await store.head() == 7


async def test_read_all_filters_by_type(store: EventStore) -> None:
    await store.append("a", [event("GameCreated"), event("GameUpdated"), event("GameDeleted")])

    events = await store.read_all(types=["GameCreated", "GameDeleted"])
    assert [e.type for e in events] == ["GameCreated", "GameDeleted"]


async def test_read_all_backwards_pages_newest_first(store: EventStore) -> None:
    assert await store.read_all_backwards() == []
    for n in range(7):
        await store.append(f"s-{n % 3}", [event(n=n)])

    first = await store.read_all_backwards(limit=3)
    rest = await store.read_all_backwards(before=first[-1].position, limit=100)

    assert [e.position for e in first + rest] == list(range(7, 0, -1))
    assert [e.data["n"] for e in first] == [6, 5, 4]
    assert await store.read_all_backwards(before=1) == []
    assert [e.position for e in await store.read_all_backwards(before=99, limit=2)] == [7, 6]


async def test_read_all_backwards_filters_by_type(store: EventStore) -> None:
    await store.append("a", [event("GameCreated"), event("GameUpdated"), event("GameDeleted")])
    await store.append("b", [event("GameCreated")])

    events = await store.read_all_backwards(types=["GameCreated", "GameDeleted"])
    older = await store.read_all_backwards(before=4, limit=1, types=["GameCreated"])

    assert [(e.stream_id, e.type) for e in events] == [
        ("b", "GameCreated"),
        ("a", "GameDeleted"),
        ("a", "GameCreated"),
    ]
    assert [e.position for e in older] == [1]


async def test_expected_version_mismatch_raises_and_writes_nothing(store: EventStore) -> None:
    await store.append("game-1", [event()], expected_version=NO_STREAM)

    with pytest.raises(WrongExpectedVersion) as raised:
        await store.append("game-1", [event(), event()], expected_version=NO_STREAM)
    assert raised.value.actual == 1
    with pytest.raises(WrongExpectedVersion):
        await store.append("game-1", [event()], expected_version=5)
    with pytest.raises(WrongExpectedVersion):
        await store.append("game-2", [event()], expected_version=1)

    assert await store.head() == 1
    assert len(await store.read_stream("game-1")) == 1


async def test_any_appends_whatever_the_version(store: EventStore) -> None:
    await store.append("game-1", [event()], expected_version=ANY)
    recorded = await store.append("game-1", [event()], expected_version=ANY)
    assert recorded[0].version == 2


async def test_exact_expected_version_appends(store: EventStore) -> None:
    await store.append("game-1", [event()], expected_version=NO_STREAM)
    recorded = await store.append("game-1", [event()], expected_version=1)
    assert recorded[0].version == 2


async def test_reappending_a_stored_event_id_returns_the_original(store: EventStore) -> None:
    first = NewEvent(type="GameCreated", data={"n": 1})
    original = await store.append("game-1", [first], expected_version=NO_STREAM)
    await store.append("game-1", [event()], expected_version=1)

    # A retry with the same id and the same (now stale) expectation: no conflict, no duplicate.
    again = await store.append("game-1", [first], expected_version=NO_STREAM)

    assert again == original
    assert await store.head() == 2


async def test_reappending_a_whole_batch_returns_the_originals_in_order(store: EventStore) -> None:
    batch = [event(n=1), event(n=2)]
    original = await store.append("game-1", batch)
    assert await store.append("game-1", batch) == original
    assert await store.head() == 2


async def test_a_batch_mixing_stored_and_new_ids_is_rejected(store: EventStore) -> None:
    stored = event(n=1)
    await store.append("game-1", [stored])

    with pytest.raises(DuplicateEventMismatch):
        await store.append("game-1", [stored, event(n=2)])
    assert await store.head() == 1


async def test_concurrent_appends_with_the_same_event_id_store_it_once(store: EventStore) -> None:
    same = event(n=1)
    results = await asyncio.gather(*(store.append("game-1", [same]) for _ in range(8)))

    assert len({r[0].position for r in results}) == 1
    assert len(await store.read_all()) == 1


async def test_concurrent_writers_to_one_stream_one_wins_per_version(store: EventStore) -> None:
    await store.append("game-1", [event()], expected_version=NO_STREAM)

    async def write() -> bool:
        try:
            await store.append("game-1", [event()], expected_version=1)
        except WrongExpectedVersion:
            return False
        return True

    outcomes = await asyncio.gather(*(write() for _ in range(6)))
    assert outcomes.count(True) == 1
    assert [e.version for e in await store.read_stream("game-1")] == [1, 2]


async def test_bad_arguments_are_rejected_before_writing(store: EventStore) -> None:
    with pytest.raises(ValueError):
        await store.append("game-1", [])
    with pytest.raises(ValueError):
        await store.append("", [event()])
    with pytest.raises(ValueError):
        await store.append("game-1", [event()], expected_version=-3)
    duplicate = event()
    with pytest.raises(ValueError):
        await store.append("game-1", [duplicate, duplicate])
    assert await store.head() == 0


async def test_envelope_carries_correlation_and_causation(store: EventStore) -> None:
    cause = uuid.uuid4()
    with correlation("req-42"):
        recorded = await store.append(
            "order-1",
            [
                NewEvent(type="OrderCreated", data={"amount_cents": 4999}),
                NewEvent(type="X", data={}, correlation_id="explicit", causation_id=str(cause)),
            ],
        )
    assert recorded[0].correlation_id == "req-42"
    assert (recorded[1].correlation_id, recorded[1].causation_id) == ("explicit", str(cause))
    stored = await store.read_correlation("req-42")
    assert [e.event_id for e in stored] == [recorded[0].event_id]
    envelope = stored[0].envelope()
    assert set(envelope) == {
        "event_id", "stream_id", "version", "position", "type",
        "occurred_at", "correlation_id", "causation_id", "traceparent", "data",
    }  # fmt: skip
    assert envelope["data"] == {"amount_cents": 4999}
    assert envelope["traceparent"] is None  # staged outside any trace


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_each_event_keeps_the_traceparent_it_was_staged_with(store: EventStore) -> None:
    traced = NewEvent(type="OrderCreated", data={}, traceparent=TRACEPARENT)
    recorded = await store.append("order-9", [traced, NewEvent(type="X", data={})])
    assert [e.traceparent for e in recorded] == [TRACEPARENT, None]
    stored = await store.read_stream("order-9")
    assert [e.traceparent for e in stored] == [TRACEPARENT, None]
    assert [e.traceparent for e in await store.read_all(0, 10)] == [TRACEPARENT, None]
    again = await store.append("order-9", [traced, recorded_twin(recorded[1])])
    assert again[0].traceparent == TRACEPARENT  # an idempotent retry answers with the stored
    assert RecordedEvent.from_envelope(stored[0].envelope()) == stored[0]


def recorded_twin(event: RecordedEvent) -> NewEvent:
    """The same event appended again (the same id and content)."""
    return NewEvent(type=event.type, data=event.data, event_id=event.event_id)


async def test_unicode_and_nested_data_round_trip(store: EventStore) -> None:
    data = {"title": "Pokémon ✨ 東方", "tags": ["a", "b"], "nested": {"x": [1, 2.5, None, True]}}
    await store.append("game-1", [NewEvent(type="GameCreated", data=data)])
    assert (await store.read_stream("game-1"))[0].data == data


async def test_checkpoints_start_at_zero_and_persist(database_url: str) -> None:
    store = await connect(database_url)
    assert await store.load_checkpoint("indexer") == 0
    await store.save_checkpoint("indexer", 41)
    await store.save_checkpoint("indexer", 42)
    await store.close()

    reopened = await connect(database_url)
    assert await reopened.load_checkpoint("indexer") == 42
    assert await reopened.load_checkpoint("other") == 0
    await reopened.close()


async def test_wait_for_events_wakes_on_an_append(store: EventStore) -> None:
    assert await store.wait_for_events(after=0, timeout=0.05) is False

    async def append_soon() -> None:
        await asyncio.sleep(0.05)
        await store.append("game-1", [event()])

    loop = asyncio.get_running_loop()
    started = loop.time()
    writer = asyncio.create_task(append_soon())
    assert await store.wait_for_events(after=0, timeout=5) is True
    assert loop.time() - started < 1.0
    await writer


async def test_every_waiter_wakes_on_an_append_made_elsewhere(
    store: EventStore, database_url: str
) -> None:
    """Many followers of one process wait at once (each with its own position); an append by
    another connection, as from another process, wakes each whose position it passes."""
    other = await connect(database_url)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        behind = [store.wait_for_events(after=0, timeout=5) for _ in range(10)]
        caught_up = [store.wait_for_events(after=1, timeout=0.5) for _ in range(10)]
        waits = asyncio.gather(*behind, *caught_up)
        await asyncio.sleep(0.05)
        await other.append("game-1", [event()])
        results = await waits
        assert results == [True] * 10 + [False] * 10
        assert loop.time() - started < 1.5
    finally:
        await other.close()


async def test_reconnecting_keeps_the_log(database_url: str) -> None:
    store = await connect(database_url)
    await store.append("game-1", [event(n=1)])
    await store.close()

    reopened = await connect(database_url)
    await reopened.append("game-1", [event(n=2)], expected_version=1)
    assert [e.data["n"] for e in await reopened.read_all()] == [1, 2]
    await reopened.close()


async def test_concurrent_appends_are_answered_one_by_one(store: EventStore) -> None:
    """Appends that share a group commit still succeed or fail on their own."""
    await store.append("taken", [event()], expected_version=NO_STREAM)
    duplicate = event(n=0)
    await store.append("dup", [duplicate])

    results = await asyncio.gather(
        *(store.append(f"s-{n}", [event(n=n)], expected_version=NO_STREAM) for n in range(10)),
        store.append("taken", [event()], expected_version=NO_STREAM),
        store.append("dup", [duplicate, event()]),
        return_exceptions=True,
    )

    assert all(isinstance(r, list) and r[0].version == 1 for r in results[:10])
    assert isinstance(results[10], WrongExpectedVersion)
    assert isinstance(results[11], DuplicateEventMismatch)
    events = await store.read_all()
    assert len(events) == 12
    assert [e.position for e in events] == list(range(1, 13))


async def test_concurrent_appends_keep_their_own_correlation_ids(store: EventStore) -> None:
    async def append_as(corr: str) -> None:
        with correlation(corr):
            await store.append(f"s-{corr}", [event()])

    await asyncio.gather(*(append_as(f"req-{n}") for n in range(8)))

    assert {(e.stream_id, e.correlation_id) for e in await store.read_all()} == {
        (f"s-req-{n}", f"req-{n}") for n in range(8)
    }


async def test_a_process_starting_while_others_append_does_not_block_them(
    database_url: str,
) -> None:
    """Connecting re-runs no DDL on an installed schema: no lock queue behind live appends."""
    writer = await connect(database_url)
    stop = asyncio.Event()

    async def keep_appending() -> int:
        count = 0
        while not stop.is_set():
            await writer.append(f"s-{count}", [event()])
            count += 1
        return count

    appending = asyncio.create_task(keep_appending())
    newcomers = []
    for _ in range(5):
        newcomers.append(await connect(database_url))
        await asyncio.sleep(0.01)  # the appender's turn (SQLite connects without yielding)
    stop.set()
    assert await asyncio.wait_for(appending, 10) > 0
    for store in (*newcomers, writer):
        await store.close()
