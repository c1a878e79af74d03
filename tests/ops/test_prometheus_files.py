"""The Prometheus configuration, alert rules and Grafana dashboard in ``deploy/`` are tested like
code: promtool validates them and runs the alerts' unit tests, and every metric they name is one
the store exposes (a renamed metric breaks this, not an on-call night)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

import gamestore.platform.metrics  # noqa: F401  (registers the catalogue)
from tests.conftest import REQUIRE_SERVICES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "gamestore.json"
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        if REQUIRE_SERVICES:
            pytest.fail("promtool is not installed (Debian's prometheus package)")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return subprocess.run(
        [tool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "args",
    [("check", "config", "prometheus.yml"), ("check", "rules", "alerts.yml")],
    ids=["config", "rules"],
)
def test_promtool_accepts_the_files(args: tuple[str, ...]) -> None:
    done = promtool(*args)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_fires_when_it_should_and_only_then() -> None:
    done = promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def exposed() -> set[str]:
    """Every metric family name the store's catalogue registers."""
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


def named_in(text: str) -> set[str]:
    return set(re.findall(r"\bgamestore_[a-z_]+\b", text))


def test_the_rules_and_the_dashboard_name_only_metrics_that_exist() -> None:
    rules = (PROMETHEUS / "alerts.yml").read_text()
    recorded = set(re.findall(r"record: (\S+)", rules))
    queries = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]
    used = named_in(rules) | named_in("\n".join(queries))
    families = exposed()
    unknown = {
        name for name in used
        if name not in families and name not in recorded
        and not any(name.endswith(s) and name.removesuffix(s) in families for s in SUFFIXES)
        and not any(name in r for r in recorded)
    }  # fmt: skip
    assert not unknown, f"not exposed by the store: {sorted(unknown)}"
    assert "gamestore_dead_letters" in used and "gamestore_consumer_lag_seconds" in used


def test_the_dashboard_is_a_grafana_dashboard_with_a_query_on_every_panel() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] == "gamestore"
    assert dashboard["templating"]["list"][0]["type"] == "datasource"
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        assert all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def test_every_process_is_scraped() -> None:
    from gamestore.processes import REGISTRY as PROCESSES

    config = (PROMETHEUS / "prometheus.yml").read_text()
    jobs = set(re.findall(r"job_name: gamestore-(\S+)", config))
    assert jobs == {spec.name for spec in PROCESSES}
