"""The whole store as real processes exporting their spans to a receiver of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.api import Account
from tests.e2e.conftest import create_admin
from tests.e2e.saga.conftest import saga_env
from tests.e2e.stack import Stack, running_stack
from tests.e2e.traces.receiver import Receiver


@pytest.fixture(scope="package")
def receiver() -> Iterator[Receiver]:
    receiving = Receiver()
    try:
        yield receiving
    finally:
        receiving.close()


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Stack]:
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between exports
    }
    with running_stack(tmp_path_factory.mktemp("traces"), {**saga_env(), **otel}, saga=True) as s:
        yield s


@pytest.fixture(scope="package")
def admin(stack: Stack) -> Account:
    return create_admin(stack)
