"""A real Prometheus server scrapes a running store during purchases: the series exist and move,
lags come back to 0, and a dead letter raises the gauge and its alert."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.e2e.api import Account, eventually
from tests.e2e.ops.support import ops_base
from tests.e2e.ops.test_health_and_metrics import CHECKS
from tests.e2e.saga.support import PROCESSING_ERROR, VISA, bought, new_game, order_reaches
from tests.e2e.stack import Stack
from tests.ports import free_port

RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "alerts.yml"
WAIT = 40.0


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prometheus scraping every process of ``stack`` each second, with the store's rules."""
    binary = shutil.which("prometheus")
    if binary is None:
        if REQUIRE_SERVICES:
            pytest.fail("prometheus is not installed (Debian's prometheus package)")
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    root = tmp_path_factory.mktemp("prometheus")
    jobs = "".join(
        f"  - job_name: gamestore-{process}\n"
        f"    static_configs: [{{targets: ['{ops_base(stack, process).removeprefix('http://')}']}}]\n"
        for process in CHECKS
    )
    config = root / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES}']\nscrape_configs:\n{jobs}"
    )
    port = free_port()
    server = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={root / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(root / "prometheus.log").open("w"),
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
    raise AssertionError("Prometheus did not become ready")


async def query(prometheus: str, expr: str) -> dict[str, float]:
    """An instant query: each result series' labels (as text) and value."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{prometheus}/api/v1/query", params={"query": expr})
    assert response.status_code == 200, response.text
    return {
        str(series["metric"]): float(series["value"][1])
        for series in response.json()["data"]["result"]
    }


async def value(prometheus: str, expr: str) -> float:
    return sum((await query(prometheus, expr)).values())


async def test_every_process_is_scraped(prometheus: str) -> None:
    async def all_up() -> bool:
        return await value(prometheus, 'sum(up{job=~"gamestore-.*"})') == len(CHECKS)

    await eventually(all_up, timeout=WAIT, what="every target up")


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
    lag = "max(gamestore_consumer_lag_events) + max(gamestore_outbox_backlog_events)"
    assert await query(prometheus, "gamestore_consumer_lag_events"), "no lag series"

    async def drained() -> bool:
        return await value(prometheus, lag) == 0

    await eventually(drained, timeout=WAIT, what="every lag and backlog at 0")


async def test_a_dead_letter_raises_the_gauge_and_its_alert(
    prometheus: str, client: httpx.AsyncClient, admin: Account, player: Account
) -> None:
    game = await new_game(client, admin)
    accepted = await bought(client, player, game["id"], PROCESSING_ERROR)
    await order_reaches(client, player, accepted["order_id"], "payment_failed")
    dead = 'sum(gamestore_dead_letters{source="queue",name="payments"})'

    async def counted() -> bool:
        return await value(prometheus, dead) >= 1

    await eventually(counted, timeout=WAIT, what="the dead-letter gauge up")
    alert = 'ALERTS{alertname="GameStoreDeadLetters",source="queue",name="payments"}'

    async def alerting() -> bool:
        return bool(await query(prometheus, alert))  # pending for its minute, then firing

    await eventually(alerting, timeout=WAIT, what="the dead-letter alert")


async def _scraped(prometheus: str) -> bool:
    return bool(await query(prometheus, "gamestore_http_request_duration_seconds_count"))
