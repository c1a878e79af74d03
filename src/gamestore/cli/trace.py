"""``gamestore trace <correlation-id | trace-id>``: one request across every process, in time
order. A trace id (32 hex digits, as OpenTelemetry shows it) is found in the log lines'
``trace_id=`` field and stands for its request's correlation id.

The pieces are plain functions: :func:`parse_line` reads one TXT log line,
:func:`find_log_lines` scans ``<log_dir>/*.log``, :func:`merge` interleaves log lines with
event-store events by time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.text import Text

from gamestore.cli.common import console, open_event_store, timestamp
from gamestore.cli.events import render
from gamestore.platform.config import Settings
from gamestore.platform.eventstore import RecordedEvent

EVENT_STORE = "eventstore"
_LINE = re.compile(
    r"^(?P<time>\S+) (?P<level>[A-Z]+) (?P<process>\S+) corr=(?P<corr>\S+)(?: (?P<rest>.*))?$"
)
_STYLES = ("cyan", "magenta", "yellow", "green", "blue", "bright_cyan", "bright_magenta")
_LEVEL_STYLES = {"ERROR": "bold red", "CRITICAL": "bold red", "WARNING": "yellow", "DEBUG": "dim"}


@dataclass(frozen=True, slots=True)
class LogLine:
    """One parsed TXT log line; ``text`` is the message and its ``key=value`` fields."""

    time: datetime
    level: str
    process: str
    correlation_id: str
    text: str


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One line of a trace: a log line, or an event (``source`` is ``eventstore``)."""

    time: datetime
    source: str
    level: str
    text: Text


def parse_line(line: str) -> LogLine | None:
    """Parse ``<RFC3339> <LEVEL> <process> corr=<id> <message> key=value…``; None if not one."""
    match = _LINE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    try:
        moment = datetime.fromisoformat(match["time"])
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return LogLine(moment, match["level"], match["process"], match["corr"], match["rest"] or "")


def find_log_lines(
    log_dir: Path, correlation_id: str, trace_id: str | None = None
) -> list[LogLine]:
    """Every line of every ``*.log`` in ``log_dir`` carrying ``correlation_id`` (or, given,
    ``trace_id``: a consumer handling a page of events logs under no one request), file by
    file (files in name order, lines in file order)."""
    needles = [f" corr={correlation_id}"] + ([f" trace_id={trace_id}"] if trace_id else [])
    found: list[LogLine] = []
    for path in sorted(log_dir.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                # cheap test first: logs are large, a trace is small
                if not any(needle in line for needle in needles):
                    continue
                parsed = parse_line(line)
                if parsed is not None and (
                    parsed.correlation_id == correlation_id
                    or (trace_id is not None and needles[-1] in line)
                ):
                    found.append(parsed)
    return found


TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def correlation_of_trace(log_dir: Path, trace_id: str) -> str | None:
    """The correlation id of the request whose log lines carry ``trace_id``; None if none."""
    needle = f" trace_id={trace_id}"
    for path in sorted(log_dir.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if needle in line and (parsed := parse_line(line)) is not None:
                    return parsed.correlation_id
    return None


def resolve(log_dir: Path, wanted: str) -> str:
    """The correlation id ``wanted`` names: itself, or the one of the trace it is the id of."""
    if TRACE_ID.match(wanted) and not find_log_lines(log_dir, wanted):
        return correlation_of_trace(log_dir, wanted) or wanted
    return wanted


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def merge(lines: Iterable[LogLine], events: Iterable[RecordedEvent]) -> list[TraceEntry]:
    """Log lines and events in one time order; ties keep log-file order, then event order."""
    entries = [TraceEntry(line.time, line.process, line.level, Text(line.text)) for line in lines]
    entries += [
        TraceEntry(_as_utc(event.occurred_at), EVENT_STORE, "EVENT", render(event))
        for event in events
    ]
    return sorted(entries, key=lambda entry: entry.time)


def render_entry(entry: TraceEntry, width: int, style: str) -> Text:
    clock = timestamp(entry.time)[11:]
    level_style = _LEVEL_STYLES.get(entry.level, "bold" if entry.source == EVENT_STORE else "")
    return Text.assemble(
        (clock, "dim"),
        " ",
        (entry.source.ljust(width), style),
        " ",
        (entry.level.ljust(7), level_style),
        " ",
        entry.text,
    )


def styles_for(sources: Sequence[str]) -> dict[str, str]:
    """A colour per source, in order of first appearance; events always look the same."""
    styles: dict[str, str] = {EVENT_STORE: "bold white"}
    for source in sources:
        if source not in styles:
            styles[source] = _STYLES[(len(styles) - 1) % len(_STYLES)]
    return styles


async def _events_of(settings: Settings, correlation_id: str) -> list[RecordedEvent]:
    async with open_event_store(settings) as store:
        if store is None:
            return []
        return await store.read_correlation(correlation_id)


def trace(
    wanted: str = typer.Argument(
        ..., metavar="ID", help="The request's correlation id, or its trace id (32 hex digits)."
    ),
) -> None:
    """Every log line of every process and every event of one request, in time order."""
    settings = Settings()
    out = console()
    correlation_id = resolve(settings.log_dir, wanted)
    traced = wanted if correlation_id != wanted else None
    lines = find_log_lines(settings.log_dir, correlation_id, traced)
    entries = merge(lines, asyncio.run(_events_of(settings, correlation_id)))
    if not entries:
        out.print(f"Nothing carries corr={correlation_id} in {settings.log_dir}/*.log or events.")
        raise typer.Exit(1)
    styles = styles_for([entry.source for entry in entries])
    width = max(len(source) for source in styles)
    first, last = entries[0].time, entries[-1].time
    out.print(
        f"corr={correlation_id}: {len(lines)} log lines, {len(entries) - len(lines)} events, "
        f"{timestamp(first)} → {timestamp(last)} ({(last - first).total_seconds():.3f} s)",
        style="bold",
    )
    for entry in entries:
        out.print(render_entry(entry, width, styles[entry.source]))
