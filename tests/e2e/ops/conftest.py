"""The whole store as real processes, with the games service's database on PostgreSQL so a
test can take that one database away (the rest stays on the embedded default)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import fresh_postgres_database
from tests.e2e.api import Account
from tests.e2e.conftest import create_admin
from tests.e2e.saga.conftest import saga_env
from tests.e2e.stack import Stack, running_stack


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # One loop for both ends of the database context manager (asyncio.run would finalise it).
    loop = asyncio.new_event_loop()
    database = fresh_postgres_database()
    games_db = loop.run_until_complete(database.__aenter__())
    try:
        extra = {**saga_env(), "GAMESTORE_GAMES_DB_URL": games_db}
        with running_stack(tmp_path_factory.mktemp("ops"), extra, saga=True) as running:
            yield running
    finally:
        loop.run_until_complete(database.__aexit__(None, None, None))
        loop.close()


@pytest.fixture(scope="package")
def admin(stack: Stack) -> Account:
    return create_admin(stack)
