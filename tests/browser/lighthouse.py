"""Lighthouse's scores for the web app's pages, as the browser tests and ``bench/lighthouse.py``
read them: ``lighthouse.mjs`` (Node, with ``node_modules`` installed by ``make``) audits the
pages in one Chromium tab, signing in through the page when a page needs a session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("lighthouse.mjs")
MODULES = ROOT / "node_modules"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CATEGORIES = ("performance", "accessibility", "best-practices")
BAR = 90


@dataclass(frozen=True)
class Page:
    """A page to audit: its report name, the app's hash and the view it must draw."""

    name: str
    hash: str
    path: str
    signed_in: bool = False


@dataclass(frozen=True)
class Scores:
    """One page's category scores (0-100), its main timings and the audits that cost it
    points."""

    name: str
    url: str
    scores: dict[str, int]
    metrics: dict[str, float] = field(default_factory=dict)
    costs: list[dict[str, Any]] = field(default_factory=list)


def missing() -> str | None:
    """Why Lighthouse cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "Node.js is not installed (apt-get install nodejs npm)"
    for package in ("lighthouse", "puppeteer-core"):
        if not (MODULES / package / "package.json").exists():
            return f"{package} is not installed in {MODULES} (make installs it: npm ci)"
    if not os.path.exists(CHROME):
        return f"Chromium is not installed at {CHROME} (apt-get install chromium)"
    return None


# Lighthouse's own "Please run Lighthouse again" errors: the trace of a page load was not
# recorded whole (it happens on a busy machine); a new run measures the page afresh
RUN_AGAIN = ("NO_NAVSTART", "NO_FCP", "NO_TRACING_STARTED")
ATTEMPTS = 3


def audit(
    base_url: str,
    pages: list[Page],
    account: tuple[str, str] | None = None,
    preset: str = "mobile",
    timeout: float = 600,
) -> list[Scores]:
    """Audits ``pages`` in order (those ``signed_in`` after signing in as ``account``)."""
    email, password = account or ("", "")
    request = {
        "chrome": CHROME, "base": base_url.rstrip("/"), "email": email, "password": password,
        "preset": preset, "pages": [vars(page) for page in pages],
    }  # fmt: skip
    for _ in range(ATTEMPTS):
        done = subprocess.run(
            ["node", str(SCRIPT), json.dumps(request)],
            capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT,
        )  # fmt: skip
        if done.returncode == 0 or not any(code in done.stderr for code in RUN_AGAIN):
            break
    if done.returncode != 0:
        raise RuntimeError(f"lighthouse failed:\n{done.stderr[-3000:]}")
    return [Scores(**row) for row in json.loads(done.stdout.strip().splitlines()[-1])]
