"""Which events revoke which tokens, and the in-memory list every verifying process keeps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from gamestore.platform.eventstore import RecordedEvent
from gamestore.platform.revocation import HORIZON, Revocations, revocation_of

T0 = datetime(2026, 12, 5, 10, 0, 0, 123000, tzinfo=UTC)


def event(kind: str, position: int = 1, **data: Any) -> RecordedEvent:
    return RecordedEvent(
        position=position, event_id=uuid.uuid4(), stream_id="user-u1", version=position,
        type=kind, data={"user_id": "u1"} | data, occurred_at=T0,
        correlation_id=None, causation_id=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "data", "revokes"),
    [
        ("UserDeleted", {"deleted_at": "2026-12-05T10:00:00.123000Z"}, True),
        ("UserUpdated", {"changed": ["role"], "updated_at": "2026-12-05T10:00:00.123Z"}, True),
        ("UserUpdated", {"changed": ["password"], "updated_at": "2026-12-05T10:00:00.123Z"}, True),
        ("UserUpdated", {"changed": ["name", "email"]}, False),
        ("UserRegistered", {}, False),
    ],
)
def test_deletion_demotion_and_password_changes_revoke(
    kind: str, data: dict[str, Any], revokes: bool
) -> None:
    moment = revocation_of(event(kind, **data))
    assert (moment == T0.timestamp()) if revokes else moment is None


def test_a_token_issued_before_the_change_is_dead_one_issued_after_lives() -> None:
    revocations = Revocations(clock=lambda: T0.timestamp())
    assert revocations.apply([event("UserUpdated", 7, changed=["password"])]) == 1
    assert revocations.position == 7
    at = T0.timestamp()
    assert revocations.revoked("u1", at - 0.001)  # a millisecond before: dead
    assert not revocations.revoked("u1", at)  # the new login right after the change
    assert not revocations.revoked("u2", at - 60)  # nobody else's


def test_the_latest_revocation_wins_and_old_entries_are_forgotten() -> None:
    now = [T0.timestamp()]
    revocations = Revocations(clock=lambda: now[0])
    revocations.revoke("u1", now[0])
    revocations.revoke("u1", now[0] - 100)  # an older event seen late changes nothing
    assert revocations.revoked("u1", now[0] - 1)
    now[0] += HORIZON + 1  # every token it could refuse has expired
    revocations.forget_expired()
    assert len(revocations) == 0
