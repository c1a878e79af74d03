"""``gamestore up``'s console: the supervisor's own lines, the processes' warnings and errors,
and the URL line last; every process's INFO lines (requests, documents indexed) only in its
log file, unless ``--verbose``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import saga_environment, stack_environment

UP_WITHIN = 90.0  # seconds for migrations, the demo seed and nine processes on a busy machine
URL_LINE = "GameStore is up at "


def _up(root: Path, *flags: str) -> tuple[list[str], Path]:
    """Run ``gamestore up --demo <flags>`` until its URL answers one request, then Ctrl-C it;
    its console lines and its log folder."""
    env = stack_environment(root, {})
    env.update(saga_environment(env["GAMESTORE_PORT"]))
    env.pop("GAMESTORE_CONSOLE_LOG_LEVEL", None)
    up = subprocess.Popen(
        [sys.executable, "-m", "gamestore", "up", "--demo", *flags],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert up.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + UP_WITHIN
    try:
        while time.monotonic() < deadline:
            line = up.stdout.readline()
            assert line, f"gamestore up ended early:\n{''.join(lines)}"
            lines.append(line.rstrip("\n"))
            if line.startswith(URL_LINE):
                break
        else:
            pytest.fail(f"no URL line within {UP_WITHIN} s:\n" + "\n".join(lines))
        url = f"http://127.0.0.1:{env['GAMESTORE_PORT']}"
        assert httpx.get(f"{url}/jogos?size=1", timeout=10).status_code == 200
        time.sleep(1.0)  # a request log line would have reached the console by now
    finally:
        os.kill(up.pid, signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
    return [*lines, *rest.splitlines()], root / "logs"


def test_the_console_shows_the_supervisor_and_the_url_not_every_info_line(
    tmp_path: Path,
) -> None:
    lines, logs = _up(tmp_path)
    process_lines = [line for line in lines if " | " in line and " INFO " in line]
    assert process_lines == [], "\n".join(process_lines)
    url_at = next(i for i, line in enumerate(lines) if line.startswith(URL_LINE))
    started = [i for i, line in enumerate(lines) if line.endswith(")") and "started (pid" in line]
    assert started and max(started) < url_at  # the URL after every process has started
    assert lines[url_at - 1].startswith("Logs: ")
    # ... and nothing was lost: the files hold the INFO lines the console left out
    assert "game document written" in (logs / "indexer.log").read_text(encoding="utf-8")
    assert "request method=GET path=/jogos status=200" in (logs / "gateway.log").read_text(
        encoding="utf-8"
    )


def test_verbose_brings_every_process_line_back(tmp_path: Path) -> None:
    lines, _ = _up(tmp_path, "--verbose")
    assert any(" | " in line and "game document written" in line for line in lines)
