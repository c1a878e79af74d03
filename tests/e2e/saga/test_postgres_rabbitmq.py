"""The saga again on the production profile: every service database and the event store on
PostgreSQL, the bus and the payment queue on RabbitMQ (a virtual host of its own, so the
broker's fixed exchange and queue names cannot meet another run's).

The module starts its own stack (the ``bus-publisher`` process included) and reruns a selection
of the embedded suite's tests against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import AMQP_URL, fresh_postgres_database, require
from tests.e2e.api import Account
from tests.e2e.conftest import create_admin
from tests.e2e.saga import test_cards as cards
from tests.e2e.saga import test_concurrency as concurrency
from tests.e2e.saga.conftest import saga_env
from tests.e2e.stack import Stack, running_stack

pytestmark = pytest.mark.postgres
DATABASES = ("users", "games", "payments", "notifier", "indexer")


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A fresh RabbitMQ virtual host (guest may use it); its amqp URL; deleted afterwards."""
    require("RabbitMQ", AMQP_URL, 5672)
    vhost = f"gs-test-{uuid.uuid4().hex[:10]}"

    def ctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)

    ctl("add_vhost", vhost)
    try:
        ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield urlsplit(AMQP_URL)._replace(path="/" + vhost).geturl()
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            ctl("delete_vhost", vhost)


@contextlib.contextmanager
def production_env(loop: asyncio.AbstractEventLoop) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL databases for every service and the event store, and a RabbitMQ vhost
    for the bus and the payment queue: the environment that points the store at them."""
    with contextlib.ExitStack() as cleanup:
        env: dict[str, str] = {}
        for name in (*DATABASES, "events"):
            database = fresh_postgres_database()
            url = loop.run_until_complete(database.__aenter__())
            cleanup.callback(loop.run_until_complete, database.__aexit__(None, None, None))
            events = name == "events"
            env["GAMESTORE_EVENTSTORE_URL" if events else f"GAMESTORE_{name.upper()}_DB_URL"] = url
        amqp = cleanup.enter_context(rabbitmq_vhost())
        env |= {"GAMESTORE_BUS_URL": amqp, "GAMESTORE_QUEUE_URL": f"{amqp}?queues=payments"}
        yield env


@contextlib.contextmanager
def production_stack(root: Path, scale: Mapping[str, int] | None = None) -> Iterator[Stack]:
    """The saga's processes on fresh PostgreSQL databases and a RabbitMQ vhost."""
    loop = asyncio.new_event_loop()  # one loop for both ends of the database context managers
    try:
        with (
            production_env(loop) as env,
            running_stack(root, saga_env() | env, saga=True, scale=scale) as running,
        ):
            yield running
    finally:
        loop.close()


@pytest.fixture(scope="module")
def saga_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with production_stack(tmp_path_factory.mktemp("saga-pg-rabbitmq")) as running:
        yield running


@pytest.fixture(scope="module")
def stack(saga_stack: Stack) -> Stack:
    return saga_stack


@pytest.fixture(scope="module")
def admin(saga_stack: Stack) -> Account:
    return create_admin(saga_stack)


def test_the_saga_really_runs_on_postgresql_and_rabbitmq(stack: Stack) -> None:
    assert stack.env["GAMESTORE_BUS_URL"].startswith("amqp://")
    assert "bus-publisher" in stack.processes
    used_sqlite = [p.name for p in stack.data_dir.glob("*.db") if p.name != "psp.db"]
    assert not used_sqlite, f"services used SQLite: {used_sqlite}"


test_visa_completes_grants_the_game_and_notifies = (
    cards.test_visa_completes_grants_the_game_and_notifies
)
test_a_declined_card_fails_with_its_reason_then_a_retry_with_visa_completes = (
    cards.test_a_declined_card_fails_with_its_reason_then_a_retry_with_visa_completes
)
test_a_processing_error_is_dead_lettered_after_n_attempts_and_replayable = (
    cards.test_a_processing_error_is_dead_lettered_after_n_attempts_and_replayable
)
test_an_async_card_completes_by_webhook_alone = cards.test_an_async_card_completes_by_webhook_alone
test_twenty_simultaneous_purchases_make_one_order_one_charge_one_entry = (
    concurrency.test_twenty_simultaneous_purchases_make_one_order_one_charge_one_entry
)
