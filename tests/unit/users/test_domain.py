"""Account rules without I/O: names, passwords, who may change what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gamestore.users.domain import (
    Caller,
    Forbidden,
    User,
    UserNotFound,
    apply_changes,
    canonical_id,
    check_password_policy,
    check_role_change,
    clean_name,
    may_see,
    normalize_email,
)

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
USER = User("11111111-1111-1111-1111-111111111111", "Ada", "Ada@Example.com", "player",
            "$argon2id$v=19$secret", 1, NOW, NOW)  # fmt: skip


@pytest.mark.parametrize("password", ["abcdef1!", "pässwörd1!", "Long enough 1", "1234567a-"])
def test_passwords_that_meet_the_policy(password: str) -> None:
    assert check_password_policy(password) == password


@pytest.mark.parametrize("password", ["", "a1!", "abcdefgh!", "12345678!", "abcdefg12", "Abc1!xy"])
def test_passwords_that_do_not(password: str) -> None:
    with pytest.raises(ValueError):
        check_password_policy(password)


def test_names_are_stripped_and_bounded() -> None:
    assert clean_name("  Ada  ") == "Ada"
    assert clean_name("x" * 100) == "x" * 100
    for bad in ["", "   ", "x" * 101, "a\x00b", "a\nb", "\u202e"]:
        with pytest.raises(ValueError):
            clean_name(bad)


def test_emails_compare_case_insensitively() -> None:
    assert normalize_email(" Ada@Example.COM ") == "ada@example.com"


def test_ids_have_one_spelling_and_others_are_not_found() -> None:
    assert canonical_id(USER.id.replace("-", "").upper()) == USER.id
    with pytest.raises(UserNotFound):
        canonical_id("../etc/passwd")


def test_self_or_admin_may_see() -> None:
    assert may_see(Caller(USER.id, "player"), USER.id)
    assert may_see(Caller("someone", "admin"), USER.id)
    assert not may_see(Caller("someone", "player"), USER.id)


def test_only_an_admin_changes_a_role() -> None:
    with pytest.raises(Forbidden):
        check_role_change(Caller(USER.id, "player"), USER, "admin")
    check_role_change(Caller(USER.id, "player"), USER, "player")
    check_role_change(Caller(USER.id, "player"), USER, None)
    check_role_change(Caller("root", "admin"), USER, "admin")


def test_changes_name_only_what_really_changed() -> None:
    later = NOW + timedelta(seconds=1)

    same, nothing = apply_changes(USER, later, name="Ada", role="player")
    changed, names = apply_changes(USER, later, name="Grace", password_hash="$argon2id$new")

    assert same is USER and nothing == []
    assert names == ["name", "password"]
    assert changed.version == 2 and changed.updated_at == later
    assert changed.password_hash == "$argon2id$new" and changed.name == "Grace"
