"""A dead letter: what a work queue or a bus consumer group gave up on, as operators see it.

Its own module, below both: the bus port and the queue port return it, and neither imports
the other for it (``gamestore dlq`` and ``GET /admin/dlq`` list both kinds together)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that failed ``max_attempts`` times (or permanently), with its last error."""

    id: str
    queue: str
    message: dict[str, Any]
    error: str
    attempts: int
    dead_lettered_at: datetime
    correlation_id: str | None = None
    source: str = "queue"
    """``queue`` (a work queue's dead letter: ``queue`` names it) or ``bus`` (an event a consumer
    group gave up on: ``queue`` names the group)."""

    def public(self) -> dict[str, Any]:
        """The JSON shape of CONTRACT.md (``GET /admin/dlq``), with its ``source``."""
        return {
            "id": self.id,
            "source": self.source,
            "queue": self.queue,
            "message": self.message,
            "error": self.error,
            "attempts": self.attempts,
            "dead_lettered_at": self.dead_lettered_at.isoformat().replace("+00:00", "Z"),
            "correlation_id": self.correlation_id,
        }
