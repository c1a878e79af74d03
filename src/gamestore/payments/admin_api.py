"""HTTP routes for operators (admin only): every dead letter (the payment queue's and the event
bus's) and the event log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from gamestore.payments.event_log import MAX_LIMIT, EventFilter, browse, browse_newest
from gamestore.payments.schemas import DeadLetterList, DeadLetterPublic, EventEnvelope, EventPage
from gamestore.platform.auth import AdminUser
from gamestore.platform.dlq import DeadLetters, Source
from gamestore.platform.eventstore import EventStore
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.http.params import Position
from gamestore.platform.http.state import app_state
from gamestore.platform.i18n import N_
from gamestore.platform.logs import get_logger

router = APIRouter(prefix="/admin", tags=["admin"])
log = get_logger("payments")
Text = Annotated[str | None, Query(min_length=1, max_length=255)]


DeadLettersDep = Annotated[DeadLetters, Depends(app_state("dead_letters"))]
StoreDep = Annotated[EventStore, Depends(app_state("store"))]


NO_DEAD_LETTER = define(404, "dead_letter_not_found", N_("No dead letter %(id)s."))


def _no_dead_letter(dead_letter_id: str) -> ProblemError:
    return ProblemError.of(NO_DEAD_LETTER, id=repr(dead_letter_id[:100]))


@router.get("/dlq", response_model=DeadLetterList)
async def dead_letters(
    _: AdminUser,
    letters: DeadLettersDep,
    source: Annotated[Source | None, Query(description="Only `queue` or only `bus`.")] = None,
    queue: Annotated[
        str | None,
        Query(min_length=1, max_length=255, description="Only this queue or consumer group."),
    ] = None,
) -> DeadLetterList:
    """Everything given up on, oldest first, each with its last error and correlation id:
    payment commands the worker dead-lettered (`source: queue`) and events a consumer group
    of the bus could not handle (`source: bus`, `queue` names the group)."""
    found = await letters.list(source, queue)
    items = [DeadLetterPublic.model_validate(letter.public()) for letter in found]
    return DeadLetterList(items=items, total=len(items))


@router.post("/dlq/{dead_letter_id}/replay", status_code=202)
async def replay_dead_letter(
    dead_letter_id: str, admin: AdminUser, letters: DeadLettersDep
) -> Response:
    """Hand a dead letter back with fresh attempts: a payment command to the worker (which
    charges again only if the order is still unpaid and this payment is still its current
    one), an event to its consumer group alone. 404 if unknown."""
    if not await letters.replay(dead_letter_id):
        raise _no_dead_letter(dead_letter_id)
    log.info("dead letter replayed", dead_letter_id=dead_letter_id, admin=admin.user_id)
    return Response(status_code=202)


@router.delete("/dlq/{dead_letter_id}", status_code=204)
async def discard_dead_letter(
    dead_letter_id: str, admin: AdminUser, letters: DeadLettersDep
) -> Response:
    """Drop one dead letter for good. 404 if unknown."""
    if not await letters.discard(dead_letter_id):
        raise _no_dead_letter(dead_letter_id)
    log.info("dead letter discarded", dead_letter_id=dead_letter_id, admin=admin.user_id)
    return Response(status_code=204)


@router.get("/events", response_model=EventPage)
async def events(
    _: AdminUser,
    store: StoreDep,
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
        page = await browse_newest(store, before, limit, where)
        items = [EventEnvelope.model_validate(event.envelope()) for event in page.events]
        return EventPage(items=items, next_after=page.newest, next_before=page.next_before)
    found, next_after = await browse(store, after, limit, where, before)
    items = [EventEnvelope.model_validate(event.envelope()) for event in found]
    return EventPage(items=items, next_after=next_after)
