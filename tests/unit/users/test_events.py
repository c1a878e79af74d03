"""The users service's event contracts: the payloads stored since the first account, unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

from gamestore.users.domain import User, apply_changes
from gamestore.users.events import UserDeleted, UserRegistered, UserUpdated

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
USER = User("11111111-1111-1111-1111-111111111111", "Ada", "Ada@Example.com", "player",
            "$argon2id$v=19$secret", 1, NOW, NOW)  # fmt: skip


def test_events_carry_no_password_hash() -> None:
    changed, names = apply_changes(USER, NOW, password_hash="$argon2id$new")
    for event in (UserRegistered.of(USER).new_event(), UserUpdated.of(changed, names).new_event()):
        assert "argon2" not in str(event.data)
        assert event.data["user_id"] == USER.id
    assert UserRegistered.of(USER).payload()["created_at"] == "2024-05-01T12:00:00Z"


def test_stored_payloads_keep_their_shape_key_for_key() -> None:
    later = datetime(2024, 5, 1, 12, 0, 1, 250000, tzinfo=UTC)
    renamed, names = apply_changes(USER, later, name="Grace")
    state = {"user_id": USER.id, "name": "Ada", "email": "Ada@Example.com", "role": "player"}

    registered = UserRegistered.of(USER).new_event()
    updated = UserUpdated.of(renamed, names).new_event()
    deleted = UserDeleted.of(USER.id, later).new_event()

    assert registered.type == "UserRegistered"
    assert list(registered.data.items()) == [*state.items(), ("created_at", "2024-05-01T12:00:00Z")]
    assert updated.type == "UserUpdated"
    assert list(updated.data.items()) == [
        *{**state, "name": "Grace"}.items(),
        ("changed", ["name"]),
        ("updated_at", "2024-05-01T12:00:01.250000Z"),
    ]
    assert deleted.type == "UserDeleted"
    assert dict(deleted.data) == {"user_id": USER.id, "deleted_at": "2024-05-01T12:00:01.250000Z"}


def test_a_stored_event_parses_back_into_its_contract() -> None:
    stored = UserRegistered.of(USER).payload()
    assert UserRegistered.parse(stored) == UserRegistered.of(USER)
