"""The Prometheus configuration, alert rules and Grafana dashboard in ``deploy/`` are tested like
code: promtool validates them and runs the alerts' unit tests, and every metric they name is one
the store exposes (a renamed metric breaks this, not an on-call night)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from gamestore.platform import metrics
from gamestore.platform.config import SERVICE_PORTS, Settings
from gamestore.processes import enabled_processes
from tests.conftest import REQUIRE_SERVICES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "gamestore.json"
# the series each kind of metric puts in the exposition (prometheus-client's text format)
SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}
QUOTED = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


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


def exposed_series() -> set[str]:
    """Every series name the catalogue in ``platform/metrics.py`` puts in the exposition."""
    names = set()
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            for family in metric.describe():
                names.update(family.name + suffix for suffix in SERIES_SUFFIXES[family.type])
    return names


def metrics_named_in(promql: str) -> set[str]:
    """The store's metric and recorded-series names a PromQL expression reads (quoted label
    values left out)."""
    return {name for name in IDENTIFIER.findall(QUOTED.sub('""', promql)) if "gamestore_" in name}


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel of the dashboard, those inside rows included; rows themselves left out."""
    for panel in items:
        if panel.get("type") == "row":
            yield from panels(panel.get("panels", []))
        else:
            yield panel


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in panels(dashboard["panels"]) for target in panel["targets"]]


def test_the_name_check_reads_promql_as_prometheus_does() -> None:
    exposed = exposed_series()
    assert {"gamestore_payments_total", "gamestore_dead_letters"} <= exposed
    assert "gamestore_http_request_duration_seconds_bucket" in exposed
    # a counter is read with _total, a gauge without, a histogram through its series
    assert not {"gamestore_payments", "gamestore_dead_letters_total"} & exposed
    assert "gamestore_http_request_duration_seconds" not in exposed
    assert metrics_named_in(
        'sum by (job) (job:gamestore_http_errors:rate5m{route="/gamestore_x"}) / up'
    ) == {"job:gamestore_http_errors:rate5m"}


def test_the_rules_and_the_dashboard_name_only_series_that_exist() -> None:
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    used = set().union(*(metrics_named_in(rule["expr"]) for rule in rules()))
    used |= set().union(*(metrics_named_in(query) for query in dashboard_queries()))
    unknown = used - exposed_series() - recorded
    assert not unknown, f"neither exposed by the store nor recorded: {sorted(unknown)}"
    assert {"gamestore_dead_letters", "gamestore_consumer_lag_seconds"} <= used


def test_every_alert_has_a_severity_a_summary_and_a_description() -> None:
    alerts = [rule for rule in rules() if "alert" in rule]
    assert len(alerts) >= 8
    for alert in alerts:
        assert alert["labels"]["severity"] in ("critical", "warning"), alert["alert"]
        assert alert["annotations"]["summary"].strip(), alert["alert"]
        assert alert["annotations"]["description"].strip(), alert["alert"]


def test_the_dashboard_is_a_grafana_dashboard_with_a_query_on_every_panel() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] == "gamestore"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    found = list(panels(dashboard["panels"]))
    assert found
    for panel in found:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def scrape_jobs() -> dict[str, list[str]]:
    """The scrape config's jobs and their targets."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    return {
        job["job_name"]: [t for static in job["static_configs"] for t in static["targets"]]
        for job in config["scrape_configs"]
    }


def default_target(process: str) -> str:
    return f"127.0.0.1:{SERVICE_PORTS['gateway-ops' if process == 'gateway' else process]}"


def test_every_process_of_a_default_store_is_scraped_on_its_ops_port() -> None:
    expected = {
        f"gamestore-{spec.name}": [default_target(spec.name)]
        for spec in enabled_processes(Settings(bus_url="embedded"))
    }
    assert scrape_jobs() == expected


def test_the_processes_of_a_rabbitmq_store_are_in_the_config_ready_to_uncomment() -> None:
    text = (PROMETHEUS / "prometheus.yml").read_text()
    embedded = {spec.name for spec in enabled_processes(Settings(bus_url="embedded"))}
    rabbitmq = {spec.name for spec in enabled_processes(Settings(bus_url="amqp://broker/"))}
    assert rabbitmq - embedded == {"bus-publisher"}
    for process in rabbitmq - embedded:
        job = (
            rf"#\s*- job_name: gamestore-{process}\n"
            rf'\s*#\s*static_configs: \[\{{targets: \["{default_target(process)}"\]\}}\]'
        )
        assert re.search(job, text), f"no commented-out job for {process}"
