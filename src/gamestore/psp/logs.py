"""The PSP's TXT log: ``<RFC 3339 UTC> <LEVEL> psp corr=<X-Request-ID or -> <message> key=value…``.

Its own few lines of stdlib logging (an outside system shares a format with us, not code).
"""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

corr: contextvars.ContextVar[str] = contextvars.ContextVar("psp_corr", default="-")
_logger = logging.getLogger("psp")


def _safe(text: str) -> str:
    """``text`` unchanged when every character is printable, else with Python escapes (control
    characters, separators and bidi controls cannot break a line or a reader's terminal)."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _value(value: object) -> str:
    text = str(value)
    if text and text.isprintable() and not any(c.isspace() or c in '"=' for c in text):
        return text
    inner = text.replace("\\", "\\\\") if text.isprintable() else _safe(text)
    return '"' + inner.replace('"', '\\"') + '"'


class LineFormatter(logging.Formatter):
    """One record, one line; fields passed as ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields: dict[str, Any] = getattr(record, "fields", {})
        pairs = "".join(f" {key}={_value(val)}" for key, val in fields.items())
        message = _safe(record.getMessage())
        line = f"{when.replace('+00:00', 'Z')} {record.levelname} psp corr={corr.get()} {message}"
        if record.exc_info:
            pairs += f" error={_value(self.formatException(record.exc_info))}"
        return line + pairs


def configure(
    log_dir: Path, level: str = "INFO", *, stderr: bool = True, console_level: str | None = None
) -> Path:
    """Send the PSP's records to ``<log_dir>/psp.log`` and, from ``console_level`` up
    (``level`` if not given), to stderr."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "psp.log"
    for handler in list(_logger.handlers):
        _logger.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [logging.FileHandler(path, encoding="utf-8")]
    if stderr:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel((console_level or level).upper())
        handlers.append(console)
    for handler in handlers:
        handler.setFormatter(LineFormatter())
        _logger.addHandler(handler)
    _logger.setLevel(level.upper())
    _logger.propagate = False
    return path


def info(message: str, **fields: Any) -> None:
    _logger.info(message, extra={"fields": fields})


def warning(message: str, **fields: Any) -> None:
    _logger.warning(message, extra={"fields": fields})


def error(message: str, **fields: Any) -> None:
    _logger.error(message, extra={"fields": fields}, exc_info=True)
