"""The supervisor's one output stream: every process's lines behind its name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

SUPERVISOR = "supervisor"
_COLOURS = (36, 35, 33, 32, 34, 96, 95, 93, 92, 94)
"""ANSI foreground colours, one per process in order (cyan, magenta, yellow, green, blue…)."""


class PrefixedOutput:
    """Writes lines as ``<name> | <text>``, names padded to one width and coloured if asked."""

    def __init__(self, stream: TextIO, names: Sequence[str], *, color: bool) -> None:
        self._stream = stream
        width = max(len(name) for name in [*names, SUPERVISOR])
        codes = {name: _COLOURS[i % len(_COLOURS)] for i, name in enumerate(names)}
        codes[SUPERVISOR] = 1
        self._prefixes = {
            name: f"\x1b[{code}m{name.ljust(width)} |\x1b[0m" if color else f"{name.ljust(width)} |"
            for name, code in codes.items()
        }

    def line(self, name: str, text: str) -> None:
        self._stream.write(f"{self._prefixes[name]} {text}\n")
        self._stream.flush()

    def note(self, text: str) -> None:
        """A line from the supervisor itself."""
        self.line(SUPERVISOR, text)
