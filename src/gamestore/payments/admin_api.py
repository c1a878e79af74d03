"""HTTP routes for operators (admin only): the payment queue's dead letters and the event log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from gamestore.payments.event_log import MAX_LIMIT, EventFilter, browse
from gamestore.payments.schemas import DeadLetterList, DeadLetterPublic, EventEnvelope, EventPage
from gamestore.platform.auth import AdminUser
from gamestore.platform.eventstore import EventStore
from gamestore.platform.http import ProblemError
from gamestore.platform.http.state import app_state
from gamestore.platform.logs import get_logger
from gamestore.platform.queue import WorkQueue

router = APIRouter(prefix="/admin", tags=["admin"])
log = get_logger("payments")
Text = Annotated[str | None, Query(min_length=1, max_length=255)]


QueueDep = Annotated[WorkQueue, Depends(app_state("queue"))]
StoreDep = Annotated[EventStore, Depends(app_state("store"))]


def _no_dead_letter(dead_letter_id: str) -> ProblemError:
    return ProblemError(404, f"No dead letter {dead_letter_id[:100]!r}.")


@router.get("/dlq", response_model=DeadLetterList)
async def dead_letters(_: AdminUser, queue: QueueDep) -> DeadLetterList:
    """Payment commands the worker gave up on, oldest first, each with its last error."""
    letters = await queue.dead_letters()
    items = [DeadLetterPublic.model_validate(letter.public()) for letter in letters]
    return DeadLetterList(items=items, total=len(items))


@router.post("/dlq/{dead_letter_id}/replay", status_code=202)
async def replay_dead_letter(dead_letter_id: str, admin: AdminUser, queue: QueueDep) -> Response:
    """Put a dead letter back on its queue with fresh attempts. The worker charges again only
    if the order is still unpaid and this payment is still its current one. 404 if unknown."""
    if not await queue.replay(dead_letter_id):
        raise _no_dead_letter(dead_letter_id)
    log.info("dead letter replayed", dead_letter_id=dead_letter_id, admin=admin.user_id)
    return Response(status_code=202)


@router.delete("/dlq/{dead_letter_id}", status_code=204)
async def discard_dead_letter(dead_letter_id: str, admin: AdminUser, queue: QueueDep) -> Response:
    """Drop one dead letter for good. 404 if unknown."""
    if not await queue.discard(dead_letter_id):
        raise _no_dead_letter(dead_letter_id)
    log.info("dead letter discarded", dead_letter_id=dead_letter_id, admin=admin.user_id)
    return Response(status_code=204)


@router.get("/events", response_model=EventPage)
async def events(
    _: AdminUser,
    store: StoreDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    stream: Text = None,
    type: Text = None,
    correlation_id: Text = None,
) -> EventPage:
    """The event store in global order, after position `after`, optionally only one stream,
    one event type or one correlation id. Read on with `after=next_after`; a page may hold
    fewer than `limit` events while more follow (filters scan a bounded part of the log)."""
    where = EventFilter(stream=stream, type=type, correlation_id=correlation_id)
    found, next_after = await browse(store, after, limit, where)
    items = [EventEnvelope.model_validate(event.envelope()) for event in found]
    return EventPage(items=items, next_after=next_after)
