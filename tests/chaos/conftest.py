"""One store on the production profile for the module's cases, with players, games and an admin.

``GAMESTORE_CHAOS=full`` runs the long form (every case, a higher rate); otherwise the short form
that CI runs. ``GAMESTORE_CHAOS_REPORT=<file>`` appends each case's figures as a JSON line.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.chaos.engines import ensure_engines_up
from tests.chaos.load import Purchase, purchase_pairs
from tests.chaos.store import RunningStore, running_store
from tests.conftest import AMQP_URL, POSTGRES_URL, require
from tests.e2e.api import Account, new_account, unique_email
from tests.e2e.saga.support import game_body

FULL = os.environ.get("GAMESTORE_CHAOS") == "full"
RATE = 10.0 if FULL else 5.0  # purchases offered per second during every case
PLAYERS, GAMES = (100, 100) if FULL else (40, 50)
ADMIN_PASSWORD = "Chaos-Adm1n!"


@dataclass
class Chaos:
    """The store, who uses it, and every purchase offered to it so far (all cases)."""

    store: RunningStore
    admin: Account
    players: list[Account]
    game_ids: list[str]
    purchases: list[Purchase] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    pairs: Iterator[tuple[Account, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.pairs = purchase_pairs(self.players, self.game_ids)


def _admin(store: RunningStore) -> tuple[str, str]:
    email = unique_email("chaos-admin")
    result = subprocess.run(
        [sys.executable, "-m", "gamestore", "admin", "create", "--email", email,
         "--password", ADMIN_PASSWORD],
        env=store.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return email, ADMIN_PASSWORD


async def _populate(store: RunningStore) -> tuple[Account, list[Account], list[str]]:
    async with httpx.AsyncClient(base_url=store.gateway_url, timeout=30) as client:
        email, password = _admin(store)
        login = await client.post("/login/auth", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        tokens = login.json()
        admin = Account("admin", "Admin", email, password, tokens["access_token"],
                        tokens["refresh_token"], "admin")  # fmt: skip
        players = [await new_account(client, name=f"Jogador {n}") for n in range(PLAYERS)]
        game_ids = []
        for _ in range(GAMES):
            created = await client.post("/jogos", json=game_body(), headers=admin.auth)
            assert created.status_code == 201, created.text
            game_ids.append(created.json()["id"])
    return admin, players, game_ids


@contextmanager
def chaos_running(root: Path, scale: Mapping[str, int] | None = None) -> Iterator[RunningStore]:
    """The store under ``gamestore up`` (``--scale`` for ``scale``), the engines up before and
    after, whatever happens."""
    require("PostgreSQL", POSTGRES_URL, 5432)
    require("RabbitMQ", AMQP_URL, 5672)
    ensure_engines_up()
    try:
        with running_store(root, scale) as store:
            yield store
    finally:
        ensure_engines_up()  # whatever happened, the engines are left running


@pytest.fixture(scope="module")
def chaos_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    with chaos_running(tmp_path_factory.mktemp("chaos")) as store:
        yield store


@pytest.fixture(scope="module")
def chaos(chaos_store: RunningStore) -> Chaos:
    admin, players, game_ids = asyncio.run(_populate(chaos_store))
    return Chaos(chaos_store, admin, players, game_ids)


@pytest.fixture
async def client(chaos: Chaos) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(
        base_url=chaos.store.gateway_url, timeout=30, limits=limits
    ) as client:
        yield client


def report(line: str) -> None:
    path = os.environ.get("GAMESTORE_CHAOS_REPORT")
    if path:
        with Path(path).open("a") as out:
            out.write(line + "\n")
