"""The whole store running as real processes (embedded default), shared by the saga tests.

The PSP signs webhooks with a NEW secret; payments accepts the new one and the PREVIOUS one (a
rotation in progress), so the tests can show an old-but-listed secret accepted and a retired one
refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.api import Account
from tests.e2e.conftest import create_admin
from tests.e2e.saga.support import new_secret
from tests.e2e.stack import Stack, running_stack

SECRETS = {"new": new_secret(), "previous": new_secret(), "retired": new_secret()}
MAX_ATTEMPTS = 3
OUTAGE_BUDGET = 3


def saga_env() -> dict[str, str]:
    return {
        "GAMESTORE_PSP_WEBHOOK_SECRET": SECRETS["new"],
        "GAMESTORE_PSP_WEBHOOK_SECRETS": f"{SECRETS['new']},{SECRETS['previous']}",
        "GAMESTORE_PAYMENT_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        # a PSP that does not answer is waited out this long (20 minutes by default)
        "GAMESTORE_PAYMENT_PSP_OUTAGE_BUDGET_SECONDS": str(OUTAGE_BUDGET),
        "GAMESTORE_QUEUE_LEASE_SECONDS": "3",
    }


@pytest.fixture(scope="package")
def saga_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("saga"), saga_env(), saga=True) as running:
        yield running


@pytest.fixture(scope="package")
def stack(saga_stack: Stack) -> Stack:
    return saga_stack


@pytest.fixture(scope="package")
def admin(saga_stack: Stack) -> Account:
    return create_admin(saga_stack)
