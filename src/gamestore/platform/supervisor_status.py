"""What the supervisor knows of its processes, as a small JSON file others can read.

``gamestore up`` passes the file's path to every process it starts (``GAMESTORE_SUPERVISOR_
STATUS``), so the gateway's ``/readyz`` can say that a process is crash-looping even when the
process has no port of its own. The file is replaced atomically at every change::

    {"updated_at": "...", "processes": {"indexer": {"state": "restarting", "pid": 4121,
      "restarts": 3, "crashes_in_a_row": 3, "last_exit": "was killed by SIGKILL",
      "since": "...", "next_restart_at": "..."}, ...}}

States: ``starting`` (not started yet), ``running``, ``restarting`` (crashed; waiting out its
backoff), ``exited`` (ended cleanly on its own, not restarted), ``stopped`` (by the supervisor).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gamestore.platform.clock import utcnow

ENV = "GAMESTORE_SUPERVISOR_STATUS"  # read back as Settings.supervisor_status
STATES = ("starting", "running", "restarting", "exited", "stopped")


def _stamp(moment: datetime) -> str:
    """A moment as the status file writes it: UTC to the millisecond, ``Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StatusFile:
    """The supervisor's table of processes, written to ``path`` (or kept in memory only)."""

    def __init__(self, path: Path | None, names: Sequence[str]) -> None:
        self.path = path
        self.rows: dict[str, dict[str, Any]] = {
            name: {"state": "starting", "pid": None, "restarts": 0, "crashes_in_a_row": 0,
                   "last_exit": None, "since": _stamp(utcnow()), "next_restart_at": None}
            for name in names
        }  # fmt: skip
        self._write()

    def running(self, name: str, pid: int) -> None:
        row = self.rows[name]
        restarts = row["restarts"] + (row["state"] == "restarting")
        self._set(name, state="running", pid=pid, restarts=restarts, next_restart_at=None)

    def restarting(self, name: str, last_exit: str, crashes: int, delay: float) -> None:
        when = _stamp(utcnow() + timedelta(seconds=delay))
        self._set(name, state="restarting", pid=None, last_exit=last_exit,
                  crashes_in_a_row=crashes, next_restart_at=when)  # fmt: skip

    def ended(self, name: str, state: str, last_exit: str | None = None) -> None:
        self._set(name, state=state, pid=None, last_exit=last_exit, next_restart_at=None)

    def _set(self, name: str, **fields: Any) -> None:
        self.rows[name] = {**self.rows[name], "since": _stamp(utcnow()), **fields}
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(self.path.name + ".tmp")
        scratch.write_text(
            json.dumps({"updated_at": _stamp(utcnow()), "processes": self.rows}, indent=1)
        )
        os.replace(scratch, self.path)


def read_status(path: Path | None) -> dict[str, dict[str, Any]] | None:
    """The processes of the status file at ``path``; None without a readable one."""
    if path is None:
        return None
    try:
        processes = json.loads(path.read_text())["processes"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return processes if isinstance(processes, dict) else None


def crash_looping(processes: dict[str, dict[str, Any]]) -> list[str]:
    """The processes waiting to be restarted after a crash, by name."""
    return sorted(name for name, row in processes.items() if row.get("state") == "restarting")
