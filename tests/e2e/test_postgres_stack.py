"""The same flows with the users database and the event store on PostgreSQL.

The module starts its own users and gateway processes with ``GAMESTORE_USERS_DB_URL`` and
``GAMESTORE_EVENTSTORE_URL`` on fresh PostgreSQL databases, and reruns a selection of the
SQLite suite's tests against them (the fixtures below override the session's).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from tests.conftest import fresh_postgres_database
from tests.e2e import test_abuse as abuse
from tests.e2e import test_authorization as authorization
from tests.e2e import test_jwt_attacks as attacks
from tests.e2e import test_users_through_gateway as users
from tests.e2e.api import Account
from tests.e2e.conftest import create_admin
from tests.e2e.stack import Stack, running_stack

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # One loop for both ends of the database context managers (asyncio.run would finalise them).
    loop = asyncio.new_event_loop()
    try:
        with contextlib.ExitStack() as cleanup:
            urls = []
            for _ in ("users", "events"):
                database = fresh_postgres_database()
                urls.append(loop.run_until_complete(database.__aenter__()))
                cleanup.callback(loop.run_until_complete, database.__aexit__(None, None, None))
            extra = {"GAMESTORE_USERS_DB_URL": urls[0], "GAMESTORE_EVENTSTORE_URL": urls[1]}
            with running_stack(tmp_path_factory.mktemp("pg-stack"), extra) as running:
                yield running
    finally:
        loop.close()


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Account:
    return create_admin(stack)


def test_the_stack_really_runs_on_postgresql(stack: Stack) -> None:
    assert stack.event_store_url.startswith("postgresql://")
    assert not (stack.data_dir / "users.db").exists(), "the users service used SQLite"
    assert not (stack.data_dir / "events.db").exists(), "the event store is SQLite"


# The SQLite suite's tests, rerun here against the PostgreSQL stack.
test_register_returns_the_new_player = users.test_register_returns_the_new_player
test_register_refuses_a_taken_email_in_any_case = (
    users.test_register_refuses_a_taken_email_in_any_case
)
test_register_refuses_invalid_input = users.test_register_refuses_invalid_input
test_login_issues_a_short_lived_asymmetric_token_pair = (
    users.test_login_issues_a_short_lived_asymmetric_token_pair
)
test_login_failure_looks_the_same_for_unknown_email_and_wrong_password = (
    users.test_login_failure_looks_the_same_for_unknown_email_and_wrong_password
)
test_refresh_rotates_the_pair_and_kills_the_old_refresh_token = (
    users.test_refresh_rotates_the_pair_and_kills_the_old_refresh_token
)
test_reusing_a_rotated_refresh_token_revokes_the_whole_family = (
    users.test_reusing_a_rotated_refresh_token_revokes_the_whole_family
)
test_logout_ends_the_refresh_token = users.test_logout_ends_the_refresh_token
test_admin_lists_users_in_pages = users.test_admin_lists_users_in_pages
test_user_reads_and_changes_self = users.test_user_reads_and_changes_self
test_update_refuses_a_weak_password_and_a_taken_email = (
    users.test_update_refuses_a_weak_password_and_a_taken_email
)
test_admin_reads_changes_and_promotes_another_user = (
    users.test_admin_reads_changes_and_promotes_another_user
)
test_admin_deletes_a_user = users.test_admin_deletes_a_user
test_jwks_is_public_and_holds_only_public_keys = (
    users.test_jwks_is_public_and_holds_only_public_keys
)

test_player_cannot_change_another_user = authorization.test_player_cannot_change_another_user
test_player_cannot_make_self_admin = authorization.test_player_cannot_make_self_admin
test_deleted_user_can_neither_log_in_nor_refresh = (
    authorization.test_deleted_user_can_neither_log_in_nor_refresh
)

forge = attacks.forge
target = attacks.target
test_a_token_signed_with_the_stolen_key_is_accepted = (
    attacks.test_a_token_signed_with_the_stolen_key_is_accepted
)
test_attack_is_refused = attacks.test_attack_is_refused

test_sixth_login_after_five_failures_is_429_even_with_the_right_password = (
    abuse.test_sixth_login_after_five_failures_is_429_even_with_the_right_password
)
test_unicode_names_are_accepted_and_echoed_intact = (
    abuse.test_unicode_names_are_accepted_and_echoed_intact
)
test_a_unicode_password_works = abuse.test_a_unicode_password_works
test_very_long_strings_are_422 = abuse.test_very_long_strings_are_422
test_nul_and_control_characters_are_refused = abuse.test_nul_and_control_characters_are_refused
test_a_nul_byte_in_a_password_never_breaks_the_service = (
    abuse.test_a_nul_byte_in_a_password_never_breaks_the_service
)
test_nul_bytes_in_the_path_and_query = abuse.test_nul_bytes_in_the_path_and_query
test_the_request_id_is_in_both_logs_and_in_the_event = (
    abuse.test_the_request_id_is_in_both_logs_and_in_the_event
)
test_user_lifecycle_events_carry_the_request_ids = (
    abuse.test_user_lifecycle_events_carry_the_request_ids
)
test_no_password_or_token_reaches_a_log_or_an_event = (
    abuse.test_no_password_or_token_reaches_a_log_or_an_event
)
