"""Text fields whose rule is one regular expression, in the code and in the OpenAPI document.

A rule written as Python (``strip()``, ``isalpha()``, ``unicodedata``) cannot be told to a
client; a rule that is a pattern can: the same pattern validates the request and is published
as the field's ``pattern``. The patterns use only what reads the same in Python's ``re`` (our
validation: models take ``ConfigDict(regex_engine="python-re")``) and in the ECMA-262 dialect
JSON Schema names (a client's): explicit character classes instead of ``\\s``/``\\w``/``\\d``,
whose meanings differ, and no lookarounds (a client generating examples from a pattern cannot
use them). Python's ``$`` also matches before a final line break: a pattern ending with ``$``
either lets that break in anyway (the trailing spaces of :func:`trimmed`) or its field refuses a
final line break itself. A request valid by the document is then valid for the service, and
the other way round.

:func:`trimmed` is "at most ``high`` characters, at least one that is not a space when ``low``
is 1, no control characters"; the value the service keeps is trimmed and NFC-normalised. (The
length is the text's as sent: a bound in the thousands written into a pattern is more than
some JSON Schema validators' regex engines compile.)
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import AfterValidator, StringConstraints

# exactly the characters Python's str.isspace() / str.strip() take as spaces
SPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
CONTROL = "\\x00-\\x1f\\x7f-\\x9f"  # Unicode category Cc, exactly
BIDI = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"  # can reorder what a reader sees


def trimmed_pattern(low: int, *, lines: bool = False) -> str:
    """The pattern of :func:`trimmed`. ``lines`` also allows tabs and line breaks inside."""
    allowed = CONTROL.replace("\\x00-\\x1f", "\\x00-\\x08\\x0b-\\x1f") if lines else CONTROL
    inner = f"[^{allowed}{BIDI}]"
    edge = f"[^{SPACE}{CONTROL}{BIDI}]"
    if low not in (0, 1):
        raise ValueError("trimmed() takes a minimum of 0 or 1")
    core = f"{edge}(?:{inner}*{edge})?"
    if low == 0:
        core = f"(?:{core})?"
    return f"^[{SPACE}]*{core}[{SPACE}]*$"  # (a final line break is one of the spaces)


def trimmed(low: int, high: int, *, lines: bool = False) -> Any:
    """``Annotated[str, trimmed(1, 200), NORMALIZED]``: at most ``high`` characters, at least
    one that is not a space when ``low`` is 1, no control or bidi characters (tabs and line
    breaks inside when ``lines``)."""
    return StringConstraints(pattern=trimmed_pattern(low, lines=lines), max_length=high)


def normalized(text: str) -> str:
    """Trimmed and NFC-composed — unless composing would lengthen it (a few compatibility
    characters decompose): then as sent, which the pattern already bounds."""
    composed = unicodedata.normalize("NFC", text)
    return (composed if len(composed) <= len(text) else text).strip()


NORMALIZED = AfterValidator(normalized)  # the value kept: trimmed and NFC


def matches(pattern: str, text: str) -> bool:
    """Whether ``text`` follows ``pattern`` as the request validation reads it."""
    return re.search(pattern, text) is not None
