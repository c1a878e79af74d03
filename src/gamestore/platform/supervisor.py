"""A small process supervisor: what ``gamestore up`` runs (see docs/adr/004).

Each command runs as its own OS process, in its own process group, with stdout and stderr
merged and every line written to one stream behind the process's name. A process that crashes
(non-zero exit or a signal) is restarted after an exponential backoff (1 s doubling to 30 s);
the backoff resets once a process has stayed up for ``reset_after`` seconds (a minute). The
supervisor never gives up on a process while it runs: a crash loop is announced, recorded in
the status file (``platform/supervisor_status.py``) and retried at the capped pace, so the
process comes back as soon as it can run. Setting the stop event sends SIGTERM to every process
group, waits ``grace`` seconds, then sends SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from gamestore.platform.liveness import LivenessProbe, watch
from gamestore.platform.supervisor_output import SUPERVISOR, PrefixedOutput
from gamestore.platform.supervisor_status import StatusFile
from gamestore.platform.waiting import first_of, wait_event

_watchers: set[asyncio.Task[None]] = set()  # liveness watches under way (kept referenced)
_LINE_LIMIT = 1 << 20
_DRAIN_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Command:
    """One process to supervise: a name for its output lines, the argv to execute, and where
    it answers ``/healthz`` (a process stuck there is killed and restarted: ``liveness.py``)."""

    name: str
    argv: Sequence[str]
    health_url: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    """Set for this process only, over the supervisor's environment (a replica's index)."""


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Exponential backoff between restarts of a crashing process."""

    base_delay: float = 1.0
    max_delay: float = 30.0
    reset_after: float = 60.0
    """A process up at least this long before crashing starts a fresh crash count."""

    def delay(self, crashes: int) -> float:
        """Seconds to wait before restarting after crash number ``crashes`` of a series."""
        return float(min(self.max_delay, self.base_delay * 2 ** (crashes - 1)))


def describe_exit(code: int | None) -> str:
    """``exited with code 3``, ``was killed by SIGKILL`` or ``could not start``."""
    if code is None:
        return "could not start"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Supervisor:
    """Runs ``commands`` until they end or ``stop`` is set; see the module docstring."""

    def __init__(
        self,
        commands: Sequence[Command],
        out: TextIO,
        *,
        policy: RestartPolicy | None = None,
        grace: float = 10.0,
        color: bool = False,
        env: Mapping[str, str] | None = None,
        status: Path | None = None,
        liveness: LivenessProbe | None = None,
    ) -> None:
        names = [command.name for command in commands]
        if not names or len(set(names)) != len(names) or SUPERVISOR in names:
            raise ValueError(f"commands need distinct names (and not {SUPERVISOR!r}): {names}")
        self._commands = list(commands)
        self._out = PrefixedOutput(out, names, color=color)
        self._policy = policy or RestartPolicy()
        self._grace = grace
        self._liveness = liveness or LivenessProbe()
        # Unbuffered, so a child's lines reach us (and the user) as they are written.
        self._env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self._started: set[str] = set()
        self._running: dict[str, asyncio.subprocess.Process] = {}
        self.status = StatusFile(status, names)
        """Each process's state, also written to ``status`` (a JSON file) when given."""
        self.started = asyncio.Event()
        """Set once every command has been started (or failed to start) once."""

    async def run(self, stop: asyncio.Event) -> int:
        """Supervise until every process ended cleanly or ``stop`` was set and all have
        stopped; 0 (a crashing process is restarted, never given up on)."""
        tasks = [asyncio.create_task(self._supervise(command, stop)) for command in self._commands]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        return 0

    def kill_all(self) -> None:
        """SIGKILL every running process group now (a second Ctrl-C)."""
        for process in self._running.values():
            _signal_group(process, signal.SIGKILL)

    async def _supervise(self, command: Command, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        name, crashes = command.name, 0
        while True:
            began = loop.time()
            code = await self._run_once(command, stop)
            if stop.is_set():
                return self.status.ended(name, "stopped", describe_exit(code))
            uptime = loop.time() - began
            if code == 0:
                self._out.note(f"{name} exited cleanly; not restarting it")
                return self.status.ended(name, "exited", describe_exit(code))
            crashes = 1 if uptime >= self._policy.reset_after else crashes + 1
            delay = self._policy.delay(crashes)
            what = f"{name} {describe_exit(code)}"
            if code is not None:
                what += f" after {uptime:.1f} s"
            loop_note = f" ({crashes} crashes in a row)" if crashes > 1 else ""
            self._out.note(f"{what}; restarting it in {delay:.2f} s{loop_note}")
            self.status.restarting(name, describe_exit(code), crashes, delay)
            if await wait_event(stop, delay):
                return self.status.ended(name, "stopped", describe_exit(code))

    async def _run_once(self, command: Command, stop: asyncio.Event) -> int | None:
        """Start the command, stream its output, stop it if asked; its exit code."""
        try:
            process = await _spawn(command.argv, {**self._env, **command.env})
        except OSError as error:
            self._mark_started(command)
            self._out.note(f"{command.name} could not start: {error}")
            return None
        self._running[command.name] = process
        self._mark_started(command)
        self._out.note(f"{command.name} started (pid {process.pid})")
        self.status.running(command.name, process.pid)
        assert process.stdout is not None
        pump = asyncio.create_task(self._pump(command.name, process.stdout))
        exited = asyncio.create_task(process.wait())
        watching = self._watch(command, process)
        try:
            # the process is shielded: a stop terminates it gracefully below, never by cancelling
            await first_of(asyncio.shield(exited), asyncio.ensure_future(stop.wait()))
            if not exited.done():
                await self._terminate(command.name, process, exited)
            code = await exited
        finally:
            watching.set()
            self._running.pop(command.name, None)
            # Whatever the process left behind in its group goes with it.
            _signal_group(process, signal.SIGKILL)
            await _drain(pump)
        return code

    def _watch(self, command: Command, process: asyncio.subprocess.Process) -> asyncio.Event:
        """Watch the process's ``/healthz`` while it runs (set the event returned to stop)."""
        done = asyncio.Event()

        def stuck(said: str) -> None:
            self._out.note(f"{command.name} is stuck ({said}); killing it")
            _signal_group(process, signal.SIGKILL)

        if command.health_url is not None:
            task = asyncio.create_task(watch(command.health_url, stuck, done, self._liveness))
            task.add_done_callback(_watchers.discard)
            _watchers.add(task)
        return done

    async def _terminate(
        self, name: str, process: asyncio.subprocess.Process, exited: asyncio.Task[int]
    ) -> None:
        _signal_group(process, signal.SIGTERM)
        await asyncio.wait({exited}, timeout=self._grace)
        if not exited.done():
            self._out.note(f"{name} did not stop within {self._grace:g} s; killing it")
            _signal_group(process, signal.SIGKILL)
        code = await exited
        self._out.note(f"{name} stopped ({describe_exit(code)})")

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                chunk = await stream.readline()
            except ValueError:  # a line longer than the limit: pass it on in pieces
                chunk = await stream.read(_LINE_LIMIT)
            if not chunk:
                return
            self._out.line(name, chunk.decode(errors="replace").rstrip("\r\n"))

    def _mark_started(self, command: Command) -> None:
        self._started.add(command.name)
        if len(self._started) == len(self._commands):
            self.started.set()


async def _spawn(argv: Sequence[str], env: Mapping[str, str]) -> asyncio.subprocess.Process:
    # Its own process group: a terminal's Ctrl-C reaches only the supervisor, which then
    # stops every process in order; and a group can be signalled with its children.
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=dict(env),
        limit=_LINE_LIMIT,
        process_group=0,
        preexec_fn=_die_with_parent(),
    )


def _die_with_parent() -> Callable[[], None] | None:
    """A child setup that asks Linux to SIGTERM the child when the supervisor dies."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def setup() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return setup


def _signal_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def _drain(pump: asyncio.Task[None]) -> None:
    """Let the output reader reach the end; give up if a stray process keeps the pipe open."""
    await asyncio.wait({pump}, timeout=_DRAIN_TIMEOUT)
    pump.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pump


@contextlib.contextmanager
def stop_on_signals(
    stop: asyncio.Event, on_repeat: Callable[[], None] | None = None
) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM set ``stop``; a repeated signal calls ``on_repeat``."""
    loop = asyncio.get_running_loop()

    def handle() -> None:
        if stop.is_set() and on_repeat is not None:
            on_repeat()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, handle)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def run_until_signalled(supervisor: Supervisor) -> int:
    """Run ``supervisor`` until its processes end or SIGINT/SIGTERM arrives; its exit code.

    A second signal while stopping kills every process at once.
    """
    stop = asyncio.Event()
    with stop_on_signals(stop, on_repeat=supervisor.kill_all):
        return await supervisor.run(stop)
