"""HTTP route of the event log for operators (admin only): ``GET /admin/events``, the event
store of every service in global order or newest first, filtered by stream, type or
correlation id (the reading itself is :mod:`gamestore.operations.event_log`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from gamestore.operations.event_log import MAX_LIMIT, EventFilter, browse, browse_newest
from gamestore.operations.schemas import EventEnvelope, EventPage
from gamestore.operations.state import OperationsDep
from gamestore.platform.auth import AdminUser
from gamestore.platform.http.params import Position

router = APIRouter(prefix="/admin", tags=["admin"])
Text = Annotated[str | None, Query(min_length=1, max_length=255)]


@router.get("/events", response_model=EventPage)
async def events(
    _: AdminUser,
    ops: OperationsDep,
    after: Position = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    stream: Text = None,
    type: Text = None,
    correlation_id: Text = None,
    order: Annotated[
        Literal["asc", "desc"], Query(description="`desc`: newest first, below `before`.")
    ] = "asc",
    before: Annotated[Position | None, Query(description="Only events below it.")] = None,
) -> EventPage:
    """The event store in global order, after position `after`, optionally only one stream,
    one event type or one correlation id. Read on with `after=next_after`; a page may hold
    fewer than `limit` events while more follow (filters scan a bounded part of the log).

    With `order=desc` the newest events come first (below `before`, from the latest when
    omitted); read older ones with `before=next_before`, which is null once none are left.
    In global order, `before` bounds the range from above."""
    where = EventFilter(stream=stream, type=type, correlation_id=correlation_id)
    if order == "desc":
        page = await browse_newest(ops.store, before, limit, where)
        items = [EventEnvelope.model_validate(event.envelope()) for event in page.events]
        return EventPage(items=items, next_after=page.newest, next_before=page.next_before)
    found, next_after = await browse(ops.store, after, limit, where, before)
    items = [EventEnvelope.model_validate(event.envelope()) for event in found]
    return EventPage(items=items, next_after=next_after)
