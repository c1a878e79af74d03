"""Every bench runs here in its smoke mode (seconds, tiny sizes), so none can break unnoticed.
Its figures are judged in bench runs (``make bench``), never in tests: here only that it runs
to the end and reports, as its last line, the JSON figures with the ratio it is judged by."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import lighthouse
from tests.conftest import AMQP_URL, POSTGRES_URL, REQUIRE_SERVICES, require

BENCH = Path(__file__).resolve().parents[2] / "bench"
CHROMIUM = "/usr/bin/chromium"

# run → (script, arguments, the engines it needs beyond SQLite)
SMOKES: dict[str, tuple[str, list[str], set[str]]] = {
    "bus": ("bus.py", ["--postgres", POSTGRES_URL, "--amqp", AMQP_URL], {"postgresql", "rabbitmq"}),
    "eventstore": ("eventstore.py", ["--postgres", POSTGRES_URL], {"postgresql"}),
    "gateway": ("gateway.py", [], set()),
    "lighthouse": ("lighthouse.py", [], {"chromium", "lighthouse"}),
    "observability": ("observability.py", [], set()),
    "purchase": ("purchase.py", [], set()),
    "purchase-scaled": ("purchase.py", ["--scale", "all=2"], set()),
    "queue": (
        "queue.py",
        ["--postgres", POSTGRES_URL, "--amqp", AMQP_URL],
        {"postgresql", "rabbitmq"},
    ),
    "search": ("search.py", [], set()),
    "sqlite_driver": ("sqlite_driver.py", [], set()),
    "web": ("web.py", [], {"chromium"}),
}


def test_every_bench_script_has_a_smoke_run() -> None:
    scripts = {script for script, _, _ in SMOKES.values()}
    assert sorted(scripts) == sorted(p.name for p in BENCH.glob("*.py"))


@pytest.mark.parametrize("run", sorted(SMOKES))
def test_the_smoke_run_ends_with_its_json_figures(run: str) -> None:
    script, arguments, needs = SMOKES[run]
    if "postgresql" in needs:
        require("PostgreSQL", POSTGRES_URL, 5432)
    if "rabbitmq" in needs:
        require("RabbitMQ", AMQP_URL, 5672)
    if "chromium" in needs and not os.path.exists(CHROMIUM):
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if "lighthouse" in needs and (why := lighthouse.missing()):
        if REQUIRE_SERVICES:
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke", *arguments],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["bench"] == script.removesuffix(".py")
    assert figures["ratio"] > 0 and "bar" in figures
