"""The event envelope and the event store port."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeAlias


class _Expected(enum.Enum):
    ANY = "any"
    NO_STREAM = "no_stream"

    def __repr__(self) -> str:
        return self.name


ANY = _Expected.ANY
"""Append whatever the stream's current version."""

NO_STREAM = _Expected.NO_STREAM
"""Append only if the stream has no event yet."""

ExpectedVersion: TypeAlias = _Expected | int

NO_BOUND = 2**63 - 1
"""Above every position (the largest signed 64-bit integer both engines store)."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. ``event_id`` makes the append idempotent; give it to retry safely."""

    type: str
    data: Mapping[str, Any]
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None  # W3C: the span that staged it (platform/tracing.py)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: its place in the global log and in its stream."""

    position: int
    event_id: uuid.UUID
    stream_id: str
    version: int
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    correlation_id: str | None
    causation_id: str | None
    traceparent: str | None = None

    def envelope(self) -> dict[str, Any]:
        """The public JSON shape of CONTRACT.md."""
        return {
            "event_id": str(self.event_id),
            "stream_id": self.stream_id,
            "version": self.version,
            "position": self.position,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "traceparent": self.traceparent,
            "data": self.data,
        }

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> RecordedEvent:
        """The event an :meth:`envelope` describes; ValueError/KeyError/TypeError if malformed."""
        return cls(
            position=int(envelope["position"]),
            event_id=uuid.UUID(str(envelope["event_id"])),
            stream_id=str(envelope["stream_id"]),
            version=int(envelope["version"]),
            type=str(envelope["type"]),
            data=dict(envelope["data"]),
            occurred_at=datetime.fromisoformat(str(envelope["occurred_at"])),
            correlation_id=envelope.get("correlation_id"),
            causation_id=envelope.get("causation_id"),
            traceparent=envelope.get("traceparent"),
        )


class EventStoreError(Exception):
    """Base of the event store's own errors."""


class WrongExpectedVersion(EventStoreError):
    """The stream is not at the version the writer expected; nothing was written."""

    def __init__(self, stream_id: str, expected: ExpectedVersion, actual: int) -> None:
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {expected!r}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateEventMismatch(EventStoreError):
    """Some, not all, of a batch's event ids are already stored: the batch is not a retry."""


class AppendOnlyViolation(EventStoreError):
    """Stored events cannot be changed or removed."""


class EventStore(Protocol):
    """The event store port: every adapter passes ``tests/integration/eventstore`` contract."""

    @property
    def url(self) -> str:
        """The database it lives in: components that keep tables next to the log use it."""
        ...

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion = ANY,
    ) -> list[RecordedEvent]: ...

    async def read_all(
        self, after: int = 0, limit: int = 1000, *, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]: ...

    async def read_all_backwards(
        self, before: int | None = None, limit: int = 1000, *, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        """Newest first: up to ``limit`` events below position ``before`` (None: from the head).

        Read on with ``before=page[-1].position``; an operator looks at the latest first.
        """
        ...

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]: ...

    async def read_correlation(self, correlation: str) -> list[RecordedEvent]:
        """Every event one request caused (its ``correlation_id``), in log order."""
        ...

    async def head(self) -> int:
        """The position of the newest event (0 when empty)."""
        ...

    async def wait_for_events(self, after: int, timeout: float) -> bool:
        """Return as soon as an event past ``after`` exists (True) or the timeout ends (False)."""
        ...

    async def load_checkpoint(self, name: str) -> int: ...

    async def save_checkpoint(self, name: str, position: int) -> None: ...

    async def close(self) -> None: ...


def expected_to_int(expected: ExpectedVersion) -> int:
    """Encode for SQL: -1 any, 0 no stream, n exact."""
    if expected is ANY:
        return -1
    if expected is NO_STREAM:
        return 0
    if isinstance(expected, int) and not isinstance(expected, bool) and expected >= 0:
        return expected
    raise ValueError(f"expected_version must be ANY, NO_STREAM or an int >= 0, got {expected!r}")


def check_batch(stream_id: str, events: Sequence[NewEvent]) -> None:
    if not stream_id:
        raise ValueError("stream_id must not be empty")
    if not events:
        raise ValueError("append needs at least one event")
    ids = [event.event_id for event in events]
    if len(set(ids)) != len(ids):
        raise ValueError("a batch must not repeat an event_id")
