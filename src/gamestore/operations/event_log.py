"""Browsing the event store for operators (``GET /admin/events``): global order, filters.

A page holds up to ``limit`` events after position ``after`` that match every filter given.
Filters the store cannot apply itself (correlation id; a type together with a stream) are applied
while reading, over at most ``MAX_SCAN`` events per request, so a rare match never makes one
request read the whole log: ``next_after`` is then the last position READ, and the client goes
on from there (an empty page with a larger ``next_after`` means "nothing yet, read on").

:func:`browse_newest` reads the other way, newest first below position ``before``, with the
same filters and the same bound; it returns where to read on (``next_before``), or None once
the oldest event was read: an operator opens the log at its latest events.
"""

from __future__ import annotations

from dataclasses import dataclass

from gamestore.platform.eventstore import NO_BOUND, EventStore, RecordedEvent

MAX_LIMIT = 1000
MAX_SCAN = 10_000
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class EventFilter:
    stream: str | None = None
    type: str | None = None
    correlation_id: str | None = None

    def matches(self, event: RecordedEvent) -> bool:
        return (
            (self.stream is None or event.stream_id == self.stream)
            and (self.type is None or event.type == self.type)
            and (self.correlation_id is None or event.correlation_id == self.correlation_id)
        )


async def browse(
    store: EventStore, after: int, limit: int, where: EventFilter, before: int | None = None
) -> tuple[list[RecordedEvent], int]:
    """Matching events after ``after`` and below ``before`` (at most ``limit``) and the
    position to read on from."""
    bound = NO_BOUND if before is None else before
    if where.stream is not None:
        return await _from_stream(store, after, limit, where, bound)
    found: list[RecordedEvent] = []
    position, scanned = after, 0
    types = [where.type] if where.type is not None else None
    while len(found) < limit and scanned < MAX_SCAN:
        batch = await store.read_all(position, _PAGE, types=types)
        if not batch:
            break
        for event in batch:
            if event.position >= bound:  # positions have no gaps: all below it were read
                return found, max(after, bound - 1)
            position, scanned = event.position, scanned + 1
            if where.matches(event):
                found.append(event)
                if len(found) == limit:
                    break
    return found, position


async def _from_stream(
    store: EventStore, after: int, limit: int, where: EventFilter, bound: int
) -> tuple[list[RecordedEvent], int]:
    assert where.stream is not None
    stream = await store.read_stream(where.stream)
    events = [e for e in stream if after < e.position < bound]
    events.sort(key=lambda e: e.position)
    found = [e for e in events if where.matches(e)][:limit]
    if len(found) == limit:
        return found, found[-1].position
    return found, max([after, *(e.position for e in events)])


@dataclass(frozen=True, slots=True)
class NewestPage:
    """Events newest first; ``next_before`` is where to read on (None: nothing older);
    ``newest`` is the highest position read (poll ``after`` it for what comes next)."""

    events: list[RecordedEvent]
    next_before: int | None
    newest: int


async def browse_newest(
    store: EventStore, before: int | None, limit: int, where: EventFilter
) -> NewestPage:
    """Matching events below ``before`` (None: from the head), newest first, at most ``limit``."""
    if where.stream is not None:
        return await _newest_from_stream(store, before, limit, where)
    found: list[RecordedEvent] = []
    position, newest, scanned, exhausted = before, None, 0, False
    types = [where.type] if where.type is not None else None
    while len(found) < limit and scanned < MAX_SCAN and not exhausted:
        batch = await store.read_all_backwards(position, _PAGE, types=types)
        exhausted = len(batch) < _PAGE  # nothing older than this batch's last event
        newest = batch[0].position if newest is None and batch else newest
        for event in batch:
            position, scanned = event.position, scanned + 1
            if where.matches(event):
                found.append(event)
                if len(found) == limit:
                    exhausted = exhausted and event is batch[-1]
                    break
    next_before = None if exhausted else position
    return NewestPage(found, next_before, _below(before) if newest is None else newest)


async def _newest_from_stream(
    store: EventStore, before: int | None, limit: int, where: EventFilter
) -> NewestPage:
    assert where.stream is not None
    bound = NO_BOUND if before is None else before
    events = [e for e in await store.read_stream(where.stream) if e.position < bound]
    events.sort(key=lambda e: e.position, reverse=True)
    matching = [e for e in events if where.matches(e)]
    found = matching[:limit]
    next_before = found[-1].position if len(matching) > limit else None
    return NewestPage(found, next_before, events[0].position if events else _below(before))


def _below(before: int | None) -> int:
    return 0 if before is None else max(before - 1, 0)
