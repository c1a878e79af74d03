"""One record, one line — whatever a client put in the values: control characters, separators
and bidi controls are escaped in our processes' lines and in the PSP simulator's."""

from __future__ import annotations

import logging

import pytest

from gamestore.platform.logs import TextFormatter
from gamestore.psp.logs import LineFormatter

HOSTILE = [
    "line\nbreak",
    "carriage\rreturn",
    "esc\x1b[31mred\x1b[0m",
    "bell\x07",
    "nul\x00",
    "del\x7f",
    "c1\x85next-line\x9b",
    "separator\u2028here\u2029",
    "bidi\u202egnp.exe\u202c",
    "isolate\u2066x\u2069",
    "mark\u200e\u200f\u061c",
]


def record(message: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("gamestore.t", logging.INFO, __file__, 1, message, None, None)
    made.fields = fields
    return made


@pytest.mark.parametrize("formatter", [TextFormatter("t"), LineFormatter()])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_value_or_message_stays_on_one_printable_line(
    formatter: logging.Formatter, hostile: str
) -> None:
    line = formatter.format(record(f"GET {hostile}", path=hostile, other="ok"))
    assert line.isprintable(), repr(line)  # no control, separator or bidi character survives
    assert line.endswith("other=ok")
    assert "path=" in line


def test_our_escapes_are_readable_and_quoted() -> None:
    line = TextFormatter("t").format(record("m", path="/a\r\x1b\u202eb", plain="x"))
    assert 'path="/a\\r\\x1b\\u202eb"' in line and "plain=x" in line


def test_printable_text_is_left_alone() -> None:
    line = TextFormatter("t").format(record("Pokémon comprado", title="Pokémon Café"))
    assert line.endswith('Pokémon comprado title="Pokémon Café"')
