"""A real Prometheus server, run with the shipped scrape config and rules, scrapes a running store
during purchases: every target is up, the series exist and move, lags come back to 0, and a
dead letter raises the gauge and its alert.

The shipped config is used as it is but for its targets (moved to where this stack's processes
answer, by ``ops_url``), its intervals (1 s, so the test waits seconds, not minutes) and the
rule file's path. The rules are the shipped ones, ``for:`` durations included: the dead-letter
alert waits a minute before firing, so the test sees it pending (promtool's unit tests in
``tests/ops`` show it firing once the minute has passed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from gamestore.processes import ops_url
from tests.conftest import REQUIRE_SERVICES
from tests.e2e.api import Account, eventually
from tests.e2e.saga.support import PROCESSING_ERROR, VISA, bought, new_game, order_reaches
from tests.e2e.stack import Stack
from tests.ports import free_port

SHIPPED = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"
WAIT = 40.0
# the processes that consume events from the bus, each reporting its groups' lag
CONSUMERS = {"games", "payments", "notifier", "indexer", "webhook-function"}

Series = list[tuple[dict[str, str], float]]


def scrape_config(stack: Stack) -> dict[str, Any]:
    """``deploy/prometheus/prometheus.yml`` aimed at ``stack``, scraping every second."""
    config: dict[str, Any] = yaml.safe_load((SHIPPED / "prometheus.yml").read_text())
    with mock.patch.dict(os.environ, stack.env):  # ops_url reads GAMESTORE_<NAME>_URL
        for job in config["scrape_configs"]:
            process = job["job_name"].removeprefix("gamestore-")
            job["static_configs"] = [{"targets": [urlsplit(ops_url(process)).netloc]}]
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(SHIPPED / path) for path in config["rule_files"]]
    return config


@pytest.fixture(scope="module")
def config(stack: Stack) -> dict[str, Any]:
    return scrape_config(stack)


@pytest.fixture(scope="module")
def prometheus(config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prometheus scraping every process of ``stack`` each second, with the store's rules."""
    binary = shutil.which("prometheus")
    if binary is None:
        if REQUIRE_SERVICES:
            pytest.fail("prometheus is not installed (Debian's prometheus package)")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    root = tmp_path_factory.mktemp("prometheus")
    (root / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with (root / "prometheus.log").open("w") as log:
        server = subprocess.Popen(
            [binary, f"--config.file={root / 'prometheus.yml'}",
             f"--storage.tsdb.path={root / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, server, root)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_ready(url: str, server: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, (root / "prometheus.log").read_text()[-2000:]
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    log = (root / "prometheus.log").read_text()
    raise AssertionError(f"Prometheus did not become ready\n{log[-2000:]}")


async def query(prometheus: str, expr: str) -> Series:
    """An instant query through ``/api/v1/query``: each result series' labels and value."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{prometheus}/api/v1/query", params={"query": expr})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success", body
    return [(series["metric"], float(series["value"][1])) for series in body["data"]["result"]]


async def value(prometheus: str, expr: str) -> float:
    return sum(v for _, v in await query(prometheus, expr))


async def test_every_process_is_scraped(
    prometheus: str, config: dict[str, Any], stack: Stack
) -> None:
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {f"gamestore-{process}" for process in stack.processes}

    async def all_up() -> bool:
        up = {labels["job"]: v for labels, v in await query(prometheus, "up")}
        return set(up) == jobs and all(v == 1 for v in up.values())

    await eventually(all_up, timeout=WAIT, what=f"every target up: {sorted(jobs)}")


async def test_purchases_move_the_series(
    prometheus: str, client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    succeeded = 'sum(gamestore_payments_total{outcome="succeeded"}) or vector(0)'
    purchases = (
        'sum(gamestore_http_request_duration_seconds_count{job="gamestore-gateway",'
        'route="/jogos/compra",status_class="2xx"}) or vector(0)'
    )
    await eventually(lambda: _scraped(prometheus), timeout=WAIT, what="a first scrape")
    before = (await value(prometheus, succeeded), await value(prometheus, purchases))
    for _ in range(2):
        game = await new_game(client, admin)
        accepted = await bought(client, player, game["id"], VISA)
        await order_reaches(client, player, accepted["order_id"], "completed")

    async def rose() -> bool:
        now = (await value(prometheus, succeeded), await value(prometheus, purchases))
        return now[0] - before[0] == 2 and now[1] - before[1] == 2

    await eventually(rose, timeout=WAIT, what="the purchase counters up by 2")


async def test_the_lags_are_reported_by_every_consumer_and_return_to_0(prometheus: str) -> None:
    for lag in ("gamestore_consumer_lag_events", "gamestore_consumer_lag_seconds"):

        async def reported(lag: str = lag) -> bool:
            series = await query(prometheus, lag)
            return {labels["job"].removeprefix("gamestore-") for labels, _ in series} >= CONSUMERS

        await eventually(reported, timeout=WAIT, what=f"{lag} from {sorted(CONSUMERS)}")
    lags = (
        "gamestore_consumer_lag_events",
        "gamestore_consumer_lag_seconds",
        "gamestore_outbox_backlog_events",
    )

    async def drained() -> bool:  # every series at 0, and there are series
        found = [await query(prometheus, lag) for lag in lags]
        return all(series and all(v == 0 for _, v in series) for series in found)

    await eventually(drained, timeout=WAIT, what="every lag and backlog at 0")


async def test_a_dead_letter_raises_the_gauge_and_its_alert(
    prometheus: str, client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], PROCESSING_ERROR)
    await order_reaches(client, player, accepted["order_id"], "payment_failed")
    dead = 'max(gamestore_dead_letters{source="queue",name="payments"})'

    async def counted() -> bool:
        return await value(prometheus, dead) >= 1

    await eventually(counted, timeout=WAIT, what="the dead-letter gauge up")
    alert = 'ALERTS{alertname="GameStoreDeadLetters",source="queue",name="payments"}'

    async def alerting() -> set[str]:
        return {labels["alertstate"] for labels, _ in await query(prometheus, alert)}

    states = await eventually(alerting, timeout=WAIT, what="the dead-letter alert")
    assert states <= {"pending", "firing"}, states


async def _scraped(prometheus: str) -> bool:
    return bool(await query(prometheus, "gamestore_http_request_duration_seconds_count"))
