"""Each bench that has a smoke mode runs it here, so none can break unnoticed (its figures are
judged in bench runs, never in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", ["observability.py"])
def test_the_smoke_run_ends_with_its_json_figures(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["bench"] == script.removesuffix(".py")
    assert figures["ratio"] > 0 and "bar" in figures
