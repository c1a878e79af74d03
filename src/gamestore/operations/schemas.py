"""Response shapes of the operations routes: dead letters and pages of the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class DeadLetterPublic(BaseModel):
    """A message or event that was given up on, with its last error."""

    id: str
    source: Literal["queue", "bus"] = Field(
        description="`queue`: a payment command of the work queue; `bus`: an event a consumer "
        "group of the event bus gave up on."
    )
    queue: str = Field(description="The work queue, or the bus's consumer group.")
    message: dict[str, Any]
    error: str
    attempts: int
    dead_lettered_at: datetime
    correlation_id: str | None = None


class DeadLetterList(BaseModel):
    items: list[DeadLetterPublic]
    total: int


class EventEnvelope(BaseModel):
    event_id: str
    stream_id: str
    version: int
    position: int
    type: str
    occurred_at: datetime
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]


class EventPage(BaseModel):
    """Events in global order; pass ``next_after`` as ``after`` to read on. Newest first
    (``order=desc``): pass ``next_before`` as ``before`` for older events (null: none)."""

    items: list[EventEnvelope]
    next_after: int
    next_before: int | None = None
