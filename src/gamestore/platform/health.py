"""What a process says about itself: whether its loops turn, whether its dependencies answer.

*Alive* (``/healthz``) means no loop of the process is stuck: each long-running loop (a bus
consumer, the outbox relay, a queue consumer…) marks the steps it takes with
:meth:`Heartbeat.step`, and a step that lasts longer than the loop's ``stall_after`` without
:meth:`Step.progress` makes the process unhealthy — restarting it is the cure. A loop that
waits for work, or waits out an outage (it reports progress at each retry), is not stuck: an
outage is a readiness matter, and a restart would not end it.

*Ready* (``/readyz``) means the process can do its job now: every dependency registered with
:meth:`Health.depends_on` (its database, the event store, the broker, the search index…)
answers a cheap probe within a timeout. Probes run when asked, concurrently.

A process has one :data:`HEALTH` (like its one Prometheus registry); composition roots
register what they run and depend on, for as long as it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gamestore.platform.metrics import DEPENDENCY_UP, LOOP_STALLED

Probe = Callable[[], Awaitable[object]]
PROBE_TIMEOUT = 2.0  # seconds a dependency has to answer a readiness probe
STALL_AFTER = 120.0  # seconds one step of a loop may take without progress


class Step:
    """One step a loop is taking; :meth:`progress` says it is alive although long (a retry
    after an outage, a renewed lease)."""

    __slots__ = ("since",)

    def __init__(self) -> None:
        self.since = time.monotonic()

    def progress(self) -> None:
        self.since = time.monotonic()


class Heartbeat:
    """One loop's pulse: the steps it is taking now (several at once for a concurrent
    consumer), each with when it began or last progressed."""

    def __init__(self, name: str, stall_after: float = STALL_AFTER) -> None:
        self.name = name
        self.stall_after = stall_after
        self._steps: set[Step] = set()

    @contextlib.contextmanager
    def step(self) -> Iterator[Step]:
        """Mark one step of the loop (a delivery, a relay pass) while inside."""
        step = Step()
        self._steps.add(step)
        try:
            yield step
        finally:
            self._steps.discard(step)

    def busy_for(self) -> float:
        """Seconds the oldest step under way has gone without progress (0 between steps)."""
        if not self._steps:
            return 0.0
        return time.monotonic() - min(step.since for step in self._steps)

    @property
    def stalled(self) -> bool:
        return self.busy_for() > self.stall_after

    def report(self) -> dict[str, Any]:
        state = "stalled" if self.stalled else "busy" if self._steps else "idle"
        return {"state": state, "busy_seconds": round(self.busy_for(), 3)}


@dataclass(frozen=True, slots=True)
class Check:
    """How one dependency answered its probe."""

    name: str
    up: bool
    ms: float
    error: str = ""

    def report(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "up" if self.up else "down", "ms": round(self.ms, 1)}
        return body | ({"error": self.error} if self.error else {})


class Health:
    """The loops and dependencies of one process (see the module docstring)."""

    def __init__(self, stall_after: float = STALL_AFTER) -> None:
        self.stall_after = stall_after
        """How long one step of a loop may take without progress, unless the loop says."""
        self._loops: list[Heartbeat] = []
        self._probes: dict[str, list[Probe]] = {}

    @contextlib.contextmanager
    def loop(self, name: str, stall_after: float | None = None) -> Iterator[Heartbeat]:
        """A heartbeat for the loop called ``name``, watched while inside."""
        beat = Heartbeat(name, self.stall_after if stall_after is None else stall_after)
        self._loops.append(beat)
        try:
            yield beat
        finally:
            self._loops.remove(beat)
            LOOP_STALLED.labels(name).set(0)

    @contextlib.contextmanager
    def depends_on(self, name: str, probe: Probe) -> Iterator[None]:
        """Make readiness wait on ``probe`` answering while inside."""
        self._probes.setdefault(name, []).append(probe)
        try:
            yield
        finally:
            probes = self._probes[name]
            probes.remove(probe)
            if not probes:
                del self._probes[name]

    def alive(self) -> tuple[bool, dict[str, Any]]:
        """Whether no loop is stalled, and each loop's state."""
        loops: dict[str, dict[str, Any]] = {}
        for beat in self._loops:
            loops[_unique(loops, beat.name)] = beat.report()
            LOOP_STALLED.labels(beat.name).set(1 if beat.stalled else 0)
        ok = not any(report["state"] == "stalled" for report in loops.values())
        return ok, {"status": "alive" if ok else "stalled", "loops": loops}

    async def ready(self, timeout: float = PROBE_TIMEOUT) -> tuple[bool, dict[str, Any]]:
        """Whether every dependency answers now, and how each did."""
        named = [(name, probe) for name, probes in self._probes.items() for probe in probes]
        checks = await asyncio.gather(*(_check(name, probe, timeout) for name, probe in named))
        report: dict[str, dict[str, Any]] = {}
        for check in checks:
            DEPENDENCY_UP.labels(check.name).set(1 if check.up else 0)
            previous = report.get(check.name)
            if previous is None or previous["status"] == "up":  # a name is down if any is
                report[check.name] = check.report()
        down = [name for name, body in report.items() if body["status"] == "down"]
        status = {"status": "unready" if down else "ready", "checks": report}
        return not down, status | ({"down": down} if down else {})


async def _check(name: str, probe: Probe, timeout: float) -> Check:
    began = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        return Check(name, False, _ms(began), f"no answer within {timeout:g} s")
    except Exception as error:  # any failure of a probe means the dependency is not usable
        return Check(name, False, _ms(began), f"{type(error).__name__}: {error}"[:300])
    return Check(name, True, _ms(began))


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def _unique(taken: dict[str, Any], name: str) -> str:
    """``name``, or ``name#2``… when several loops of one name run (tests host many)."""
    if name not in taken:
        return name
    number = 2
    while f"{name}#{number}" in taken:
        number += 1
    return f"{name}#{number}"


HEALTH = Health()
"""This process's health."""


def depend_on(stack: contextlib.ExitStack | contextlib.AsyncExitStack, **probes: Probe) -> None:
    """Make this process's readiness wait on each probe, for as long as ``stack`` is open."""
    for name, probe in probes.items():
        stack.enter_context(HEALTH.depends_on(name, probe))
