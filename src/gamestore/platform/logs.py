"""Plain-text logs: one file per process, one line per record.

``<RFC 3339 time> <LEVEL> <process> corr=<id> <message> key=value…``

The correlation id travels in a context variable, so every line a request causes carries it
without being passed around by hand; an exception leaving a correlation block keeps its id, so
a traceback logged outside the block (by Starlette's or uvicorn's last resort, by a consumer
loop) carries it too. Nothing a client sent can break a line or a reader's
terminal: every control character (C0, DEL, C1), line and paragraph separator and bidi control
in the message and in the values is written as an escape (``\r``, ``\x1b``, ``\u202e``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opentelemetry.trace import get_current_span

_correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


def correlation_id() -> str:
    return _correlation_id.get()


def current_correlation() -> str | None:
    """The correlation id in force, or None outside any request."""
    value = _correlation_id.get()
    return None if value == "-" else value


def set_correlation_id(value: str | None) -> contextvars.Token[str]:
    return _correlation_id.set(value or new_correlation_id())


def new_correlation_id() -> str:
    return str(uuid.uuid4())


# attributes set on an exception: the correlation it was raised under, and that a line carries it
_RAISED_UNDER = "_gamestore_correlation"
_WRITTEN = "_gamestore_logged"


@contextmanager
def correlation(value: str | None) -> Iterator[str]:
    """Run a block under a correlation id (a new one when ``value`` is empty)."""
    token = set_correlation_id(value)
    try:
        yield _correlation_id.get()
    except BaseException as error:
        vars(error).setdefault(_RAISED_UNDER, _correlation_id.get())  # the innermost block's
        raise
    finally:
        _correlation_id.reset(token)


# control characters, line/paragraph separators, and the bidi controls that reorder text
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NEEDS_QUOTES = re.compile(f'[\\s"=]|{_UNSAFE.pattern}')
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape(text: str) -> str:
    """``text`` with every character that could break a line or a terminal escaped."""
    return _UNSAFE.sub(_escaped, text)


def _format_value(value: object) -> str:
    text = str(value)
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"' + escape(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    return text


class TextFormatter(logging.Formatter):
    """Formats a record as the contract's single TXT line."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        formatted = getattr(record, "text_line", None)  # the file and stderr share one
        if formatted is None or formatted[0] is not self:
            formatted = record.text_line = (self, self._line(record))
        line: str = formatted[1]
        return line

    def _line(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        when = when.replace("+00:00", "Z")
        error = record.exc_info[1] if record.exc_info else None
        corr = getattr(record, "corr", None) or _correlation_id.get()
        if corr == "-" and error is not None:
            corr = vars(error).get(_RAISED_UNDER, corr)
        message = escape(record.getMessage())
        fields: dict[str, Any] = getattr(record, "fields", {}) or {}
        pairs = "".join(f" {key}={_format_value(value)}" for key, value in fields.items())
        if (trace := _trace_id()) is not None:
            pairs += f" trace_id={trace}"
        corr = _format_value(corr)  # an id is printable already; escaped all the same
        line = f"{when} {record.levelname} {self.process} corr={corr} {message}{pairs}"
        if record.exc_info:
            line += f" error={_format_value(self.formatException(record.exc_info))}"
            if error is not None:
                vars(error)[_WRITTEN] = True
        return line


def _trace_id() -> str | None:
    """The trace the line belongs to (32 hex digits), beside its correlation id."""
    span_context = get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def _server_error(record: logging.LogRecord) -> bool:
    """uvicorn's error records without their trailing newline, except a traceback that one of
    our lines already carries (Starlette's last resort logs it, then re-raises to uvicorn)."""
    error = record.exc_info[1] if record.exc_info else None
    if error is not None and vars(error).get(_WRITTEN):
        return False
    record.msg = str(record.msg).rstrip()
    return True


class Logger:
    """A thin facade: ``log.info("payment charged", payment_id=pid)``."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(f"gamestore.{name}")

    def _log(self, level: int, message: str, exc_info: bool, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, message, exc_info=exc_info, extra={"fields": fields})

    def debug(self, message: str, **fields: Any) -> None:
        self._log(logging.DEBUG, message, False, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._log(logging.INFO, message, False, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._log(logging.WARNING, message, False, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, False, fields)

    def exception(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, True, fields)


def get_logger(name: str) -> Logger:
    return Logger(name)


def configure(
    process: str,
    log_dir: Path,
    level: str = "INFO",
    *,
    stderr: bool = True,
    console_level: str | None = None,
) -> Path:
    """Send every ``gamestore.*`` record to ``<log_dir>/<process>.log`` and, from
    ``console_level`` up (``level`` if not given), to stderr."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"{process}.log"
    formatter = TextFormatter(process)
    root = logging.getLogger("gamestore")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(formatter)
    root.addHandler(file_handler)
    if stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream.setLevel((console_level or level).upper())
        root.addHandler(stream)
    root.setLevel(level.upper())
    root.propagate = False
    # uvicorn's own errors (an exception after the response started, a failed start-up) are
    # lines of this file too, escaped and under the request's id, not raw text on stderr. Its
    # start-up chatter and protocol warnings stay out (an unreadable request is logged by
    # platform.http.app under its request id).
    server = logging.getLogger("uvicorn.error")
    server.handlers = list(root.handlers)
    server.filters = [_server_error]
    server.setLevel(logging.ERROR)
    server.propagate = False
    # asyncpg's pool logs a traceback each time it fails to reconnect during a database
    # outage; our own outage lines (platform.faults) say when one starts and ends.
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
    return path
