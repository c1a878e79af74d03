"""Through the real logger into the real file: one record is one printable line, whatever a
client put in the message, the values or the correlation id, and a traceback logged outside
the block it was raised in still carries that block's correlation id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gamestore.platform.logs import configure, correlation, get_logger

HOSTILE = "/a\r\x1b[2J\x07\x00\x7f\x85\u2028\u2029\u202egnp.exe\u202c\u2066\u2069\nFAKE"
ESCAPED = r"/a\r\x1b[2J\x07\x00\x7f\x85\u2028\u2029\u202egnp.exe\u202c\u2066\u2069\nFAKE"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """``configure`` on a temporary directory; the logging set-up it replaced comes back."""
    touched = [logging.getLogger("gamestore"), logging.getLogger("uvicorn.error")]
    saved = [(lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for lg in touched]
    path = configure("t", tmp_path / "logs", "DEBUG", stderr=False)
    yield path
    for handler in logging.getLogger("gamestore").handlers:
        handler.close()
    for lg, (handlers, filters, level, propagate) in zip(touched, saved, strict=True):
        lg.handlers, lg.filters, lg.propagate = handlers, filters, propagate
        lg.setLevel(level)


def lines_of(path: Path) -> list[str]:
    for handler in logging.getLogger("gamestore").handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert text.splitlines() == lines  # no CR, FS/GS/RS, NEL or U+2028/9 split a line anywhere
    for line in lines:
        assert line.isprintable(), repr(line)  # no control, separator or bidi character left
    return lines


def test_hostile_text_in_the_message_and_every_field_is_escaped(log_file: Path) -> None:
    log = get_logger("t")
    log.info(f"GET {HOSTILE}", path=HOSTILE, agent=HOSTILE, status=404)
    log.warning("plain", title="Pokémon Café")
    first, second = lines_of(log_file)
    assert f"GET {ESCAPED} " in first
    assert f'path="{ESCAPED}" agent="{ESCAPED}" status=404' in first
    assert second.endswith('WARNING t corr=- plain title="Pokémon Café"')


def test_a_hostile_correlation_id_cannot_break_the_line(log_file: Path) -> None:
    with correlation("id\r\n2026-01-01T00:00:00Z INFO forged"):
        get_logger("t").info("m")
    [line] = lines_of(log_file)
    assert 'corr="id\\r\\n2026-01-01T00:00:00Z INFO forged" m' in line


def test_a_traceback_is_one_line_under_the_correlation_it_was_raised_in(log_file: Path) -> None:
    log = get_logger("t")
    try:
        with correlation("corr-raised-1"):
            raise ValueError(f"bad {HOSTILE}")
    except ValueError:
        log.exception("failed outside the block")  # as Starlette's last resort does
    [line] = lines_of(log_file)
    assert " corr=corr-raised-1 failed outside the block error=" in line
    assert f"ValueError: bad {ESCAPED}" in line


def test_the_innermost_block_names_the_exception(log_file: Path) -> None:
    try:
        with correlation("outer"), correlation("inner"):
            raise RuntimeError("x")
    except RuntimeError:
        get_logger("t").exception("failed")
    [line] = lines_of(log_file)
    assert " corr=inner failed " in line


def test_uvicorns_errors_are_lines_of_the_file_and_not_written_twice(log_file: Path) -> None:
    server = logging.getLogger("uvicorn.error")
    server.info("Uvicorn running on http://127.0.0.1:1")  # start-up chatter stays out
    server.warning("Invalid HTTP request received.")  # logged by our protocol under its id
    for already_logged in (False, True):
        try:
            with correlation(f"asgi-{already_logged}"):
                raise RuntimeError(f"after the response started {HOSTILE}")
        except RuntimeError:
            if already_logged:
                get_logger("t").exception("unhandled error")
            server.error("Exception in ASGI application\n", exc_info=True)
    first, second = lines_of(log_file)
    assert " ERROR t corr=asgi-False Exception in ASGI application error=" in first
    assert f"RuntimeError: after the response started {ESCAPED}" in first
    assert " ERROR t corr=asgi-True unhandled error error=" in second
