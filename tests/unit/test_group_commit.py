"""The group committer: grouping, one answer per request, errors to every caller."""

from __future__ import annotations

import asyncio

import pytest

from gamestore.platform.eventstore import ANY, NewEvent
from gamestore.platform.eventstore.batching import AppendRequest, GroupCommitter


def request(stream: str, events: int = 1) -> AppendRequest:
    return AppendRequest(
        stream, [NewEvent(type="E", data={}) for _ in range(events)], -1, ANY, None
    )


async def test_requests_waiting_together_are_flushed_as_one_group() -> None:
    groups: list[list[str]] = []

    async def flush(group: list[AppendRequest]) -> None:
        groups.append([r.stream_id for r in group])
        await asyncio.sleep(0.01)
        for r in group:
            r.resolve([])

    committer = GroupCommitter(flush)
    await asyncio.gather(*(committer.submit(request(f"s{n}")) for n in range(5)))

    assert sum(len(g) for g in groups) == 5
    assert len(groups) < 5


async def test_a_submit_right_after_a_drain_still_gets_written() -> None:
    async def flush(group: list[AppendRequest]) -> None:
        for r in group:
            r.resolve([])

    committer = GroupCommitter(flush)
    for n in range(20):  # each submit lands just as the previous worker is finishing
        await asyncio.wait_for(committer.submit(request(f"s{n}")), 1)


async def test_groups_respect_the_event_limit() -> None:
    sizes: list[int] = []

    async def flush(group: list[AppendRequest]) -> None:
        sizes.append(sum(len(r.events) for r in group))
        for r in group:
            r.resolve([])

    committer = GroupCommitter(flush, max_events=10)
    await asyncio.gather(*(committer.submit(request(f"s{n}", 4)) for n in range(6)))
    assert max(sizes) <= 10


async def test_a_failed_flush_fails_every_request_of_its_group() -> None:
    async def flush(group: list[AppendRequest]) -> None:
        raise ConnectionError("database went away")

    committer = GroupCommitter(flush)
    results = await asyncio.gather(
        *(committer.submit(request(f"s{n}")) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    with pytest.raises(ConnectionError):  # and the committer still works afterwards
        await committer.submit(request("again"))
