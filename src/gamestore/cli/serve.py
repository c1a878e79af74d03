"""``gamestore serve <process>``: one registered process in the foreground (a container's job)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import typer

from gamestore.cli.common import say_error
from gamestore.migrations import SchemaNotCurrent
from gamestore.platform import logs, tracing
from gamestore.platform.config import Settings, replica
from gamestore.platform.health import HEALTH
from gamestore.platform.http.ops import serve_ops
from gamestore.platform.i18n import N_
from gamestore.platform.supervisor import stop_on_signals
from gamestore.processes import (
    PROCESSES,
    ProcessMain,
    ProcessSpec,
    UnknownProcess,
    get_process,
    ops_url,
    replica_name,
)

log = logs.get_logger("serve")


async def run_main(main: ProcessMain, settings: Settings, ops: str | None = None) -> int:
    """Run ``main`` until it returns; SIGTERM/SIGINT set its stop event, a second one cancels it.
    With ``ops`` (a URL), serve the process's ``/healthz``, ``/readyz`` and ``/metrics`` there
    meanwhile.

    Returns the exit code: 0 when ``main`` returned, 1 when it raised or was cancelled.
    """
    stop = asyncio.Event()
    task = asyncio.current_task()
    assert task is not None

    def cancel() -> None:
        task.cancel()

    with stop_on_signals(stop, on_repeat=cancel):
        log.info("process started", pid=os.getpid())
        try:
            await _with_ops(main(settings, stop), ops)
        except asyncio.CancelledError:
            log.error("process cancelled by a second stop signal")
            return 1
        except Exception as error:
            refused = _schema_refusal(error)
            if refused is not None:  # an operator's step is missing, not a bug: no traceback
                log.error("cannot start: a database schema is behind this code", error=refused)
                return 1
            log.exception("process crashed")
            return 1
    log.info("process stopped", reason="stop signal" if stop.is_set() else "main returned")
    return 0


def _schema_refusal(error: BaseException) -> SchemaNotCurrent | None:
    """The :class:`SchemaNotCurrent` behind ``error`` (also inside a task group's group)."""
    if isinstance(error, SchemaNotCurrent):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := _schema_refusal(inner)) is not None:
                return found
    return None


async def _with_ops(main: Awaitable[None], ops: str | None) -> None:
    """Run ``main`` and, with ``ops``, the ops listener beside it until ``main`` returns (so
    probes are answered through a graceful stop); a listener that cannot serve (its port is
    taken) fails the process."""
    if ops is None:
        return await main
    done = asyncio.Event()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(serve_ops(ops, done), name="ops")
        try:
            await main
        finally:
            done.set()


def serve_process(spec: ProcessSpec, settings: Settings) -> int:
    """Log to ``<log_dir>/<name>.log``, import the process's main, run it; the exit code."""
    # replica 2 of games logs to games-2.log (`gamestore up --scale games=2`)
    logs.configure(
        replica_name(spec.name, replica()),
        settings.log_dir,
        settings.log_level,
        console_level=settings.console_log_level,
    )
    HEALTH.stall_after = settings.loop_stall_seconds
    tracing.configure(spec.name)
    try:
        main = spec.load()
    except (ImportError, AttributeError, ValueError):
        log.exception("cannot load the process", target=spec.target)
        return 1
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            ops = ops_url(spec.name) if spec.ops else None
            return runner.run(run_main(main, settings, ops))
    finally:
        tracing.shutdown()  # the last spans are exported before the process ends


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (it comes with uvicorn[standard]): several times faster I/O."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def serve(process: str = typer.Argument(..., help="A registered process name.")) -> None:
    """Run one process in the foreground until SIGTERM or Ctrl-C."""
    settings = Settings()
    try:
        spec = get_process(process)
    except UnknownProcess as error:
        known = ", ".join(PROCESSES)
        say_error(N_("No process named %(name)r (known: %(known)s)."), name=error.name, known=known)
        raise typer.Exit(2) from None
    if not spec.enabled(settings):
        say_error(N_("%(process)s is not enabled by the current settings."), process=process)
        raise typer.Exit(2)
    raise typer.Exit(serve_process(spec, settings))
