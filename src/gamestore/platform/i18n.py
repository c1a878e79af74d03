"""One language per request (or per CLI run): gettext catalogs read with Babel.

Every user-visible message is written in English in the code, marked with :func:`N_` (where
it is declared) or :func:`_` (where it is used at once), and translated from the catalog of
the caller's language: ``src/gamestore/locale/<lang>/LC_MESSAGES/gamestore.po``. English is the
msgid itself, so ``en`` needs no catalog. The ``.po`` files are compiled in memory the first
time a language is used (no ``.mo`` to commit and keep in step). ``babel.cfg`` at the top of the
repository drives ``pybabel extract`` to regenerate the template.

The language of the work at hand is a context variable: the HTTP middleware
(``platform/http/middleware.py``) sets it from ``Accept-Language``, the CLI from ``LANG``;
when nothing asks for a language we know, it is Brazilian Portuguese, the store's language.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel.core import Locale, UnknownLocaleError, parse_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "gamestore"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT = "pt_BR"
SUPPORTED = ("pt_BR", "en")
_ALIASES = {"pt": "pt_BR", "en": "en"}  # a bare language picks our variant of it
MAX_TAGS = 20  # language ranges of one header looked at, at most (a header is client input)

_language: ContextVar[str] = ContextVar("gamestore_language", default=DEFAULT)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it: it is translated where it is
    shown, in the language of that moment (a module-level table is built before any request)."""
    return message


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language``; identity for English and for a language without
    a catalog. Fuzzy entries are left out: an unchecked translation is not shown."""
    path = catalog_path(language)
    if language == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translate(
    message: str, params: Mapping[str, Any] | None = None, *, language: str | None = None
) -> str:
    """``message`` in ``language`` (the current one by default), its ``%(name)s`` placeholders
    filled from ``params``."""
    text = translations(language or _language.get()).gettext(message)
    return text % dict(params) if params else text


def _(message: str, /, **params: Any) -> str:
    """``message`` translated into the current language at once, placeholders filled."""
    return translate(message, params)


def current_language() -> str:
    return _language.get()


@contextlib.contextmanager
def use_language(language: str) -> Iterator[None]:
    """Everything inside speaks ``language`` (one of :data:`SUPPORTED`)."""
    token = _language.set(language if language in SUPPORTED else DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def _ranked(header: str) -> list[str]:
    """The language tags of an ``Accept-Language`` value, most wanted first (``q=0`` and ``*``
    dropped, ties kept in the client's order), as Babel identifiers (``pt_BR``)."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(header.split(",")[:MAX_TAGS]):
        tag, _, rest = part.strip().partition(";")
        weight = 1.0
        if rest.strip().startswith("q="):
            try:
                weight = float(rest.strip()[2:])
            except ValueError:
                continue
        try:
            language, territory, *_ = parse_locale(tag.strip(), sep="-")
        except ValueError:
            continue  # "*", private use or junk
        if weight > 0:
            ranked.append((-weight, order, f"{language}_{territory}" if territory else language))
    return [identifier for *_, identifier in sorted(ranked)]


def negotiate(accept_language: str | None) -> str:
    """The best of :data:`SUPPORTED` for an ``Accept-Language`` value; pt_BR when it is absent
    or names nothing we speak."""
    if not accept_language:
        return DEFAULT
    try:
        found = Locale.negotiate(_ranked(accept_language), SUPPORTED, aliases=_ALIASES)
    except (UnknownLocaleError, ValueError):
        return DEFAULT
    return str(found) if found is not None and str(found) in SUPPORTED else DEFAULT


def language_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """The CLI's language: the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that
    is set and not the C locale, negotiated like a header; pt_BR otherwise."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        tags = [value.split(".")[0].split("@")[0] for value in environ.get(name, "").split(":")]
        tags = [tag.replace("_", "-") for tag in tags if tag and tag not in ("C", "POSIX")]
        if tags:
            return negotiate(", ".join(tags))
    return DEFAULT


__all__ = [
    "DEFAULT",
    "N_",
    "SUPPORTED",
    "_",
    "current_language",
    "language_from_environment",
    "negotiate",
    "translate",
    "translations",
    "use_language",
]
