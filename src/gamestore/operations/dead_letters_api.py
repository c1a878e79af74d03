"""HTTP routes of every dead letter (admin only): the work queue's and each bus consumer
group's, listed, replayed and discarded in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from gamestore.operations.schemas import DeadLetterList, DeadLetterPublic
from gamestore.operations.state import OperationsDep
from gamestore.platform.auth import AdminUser
from gamestore.platform.dlq import Source
from gamestore.platform.http import ProblemError
from gamestore.platform.http.codes import define
from gamestore.platform.i18n import N_
from gamestore.platform.logs import get_logger

router = APIRouter(prefix="/admin", tags=["admin"])
log = get_logger("operations")

NO_DEAD_LETTER = define(404, "dead_letter_not_found", N_("No dead letter %(id)s."))


def _no_dead_letter(dead_letter_id: str) -> ProblemError:
    return ProblemError.of(NO_DEAD_LETTER, id=repr(dead_letter_id[:100]))


@router.get("/dlq", response_model=DeadLetterList)
async def dead_letters(
    _: AdminUser,
    ops: OperationsDep,
    source: Annotated[Source | None, Query(description="Only `queue` or only `bus`.")] = None,
    queue: Annotated[
        str | None,
        Query(min_length=1, max_length=255, description="Only this queue or consumer group."),
    ] = None,
) -> DeadLetterList:
    """Everything given up on, oldest first, each with its last error and correlation id:
    payment commands the worker dead-lettered (`source: queue`) and events a consumer group
    of the bus could not handle (`source: bus`, `queue` names the group)."""
    found = await ops.dead_letters.list(source, queue)
    items = [DeadLetterPublic.model_validate(letter.public()) for letter in found]
    return DeadLetterList(items=items, total=len(items))


@router.post("/dlq/{dead_letter_id}/replay", status_code=202)
async def replay_dead_letter(dead_letter_id: str, admin: AdminUser, ops: OperationsDep) -> Response:
    """Hand a dead letter back with fresh attempts: a payment command to the worker (which
    charges again only if the order is still unpaid and this payment is still its current
    one), an event to its consumer group alone. 404 if unknown."""
    if not await ops.dead_letters.replay(dead_letter_id):
        raise _no_dead_letter(dead_letter_id)
    log.info("dead letter replayed", dead_letter_id=dead_letter_id, admin=admin.user_id)
    return Response(status_code=202)


@router.delete("/dlq/{dead_letter_id}", status_code=204)
async def discard_dead_letter(
    dead_letter_id: str, admin: AdminUser, ops: OperationsDep
) -> Response:
    """Drop one dead letter for good. 404 if unknown."""
    if not await ops.dead_letters.discard(dead_letter_id):
        raise _no_dead_letter(dead_letter_id)
    log.info("dead letter discarded", dead_letter_id=dead_letter_id, admin=admin.user_id)
    return Response(status_code=204)
