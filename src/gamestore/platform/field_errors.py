"""What is wrong with one field, as a stable ``code`` and a message in the caller's language.

pydantic names every failure with an error ``type`` (``string_too_short``) and gives its limits
in ``ctx`` (``min_length``); our own validators raise ``PydanticCustomError`` with codes of our
own (``password_too_weak``). The code is what a client keys on; the message is looked up by
code in :data:`MESSAGES` and translated, the ``ctx`` values as its placeholders. pydantic's own
English text (``Value error, …``) never reaches a client: a code with no message here gets
:data:`FALLBACK`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from babel.numbers import format_decimal

from gamestore.platform.i18n import N_, current_language, translate

FALLBACK = N_("This value is not valid.")
_WHOLE = N_("Must be a whole number.")
_NUMBER = N_("Must be a number.")
_BOOL = N_("Must be true or false.")
_OBJECT = N_("Must be an object.")
_CHOICE = N_("Must be one of: %(expected)s.")
_UUID = N_("Must be a UUID.")
_DATE = N_("Must be a date, YYYY-MM-DD.")
_DATETIME = N_("Must be a date and time (RFC 3339).")

MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("This field is not accepted here."),
    "string_type": N_("Must be text."),
    "string_too_short": N_("Must have at least %(min_length)s characters."),
    "string_too_long": N_("Must have at most %(max_length)s characters."),
    "string_pattern_mismatch": N_(
        "Does not have the expected form (no control characters; see the field's pattern in "
        "the API document)."
    ),
    "string_unicode": N_("Must be valid Unicode text."),
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "bool_type": _BOOL,
    "bool_parsing": _BOOL,
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "greater_than": N_("Must be greater than %(gt)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "less_than": N_("Must be less than %(lt)s."),
    "too_short": N_("Must have at least %(min_length)s items."),
    "too_long": N_("Must have at most %(max_length)s items."),
    "list_type": N_("Must be a list."),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "json_invalid": N_("The body is not valid JSON."),
    "json_type": N_("The body must be JSON."),
    "literal_error": _CHOICE,
    "enum": _CHOICE,
    "uuid_type": _UUID,
    "uuid_parsing": _UUID,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    # our validators' own codes
    "password_too_weak": N_(
        "The password must have %(min)s to %(max)s characters, with a letter, a digit and a "
        "special character."
    ),
    "email_invalid": N_("Must be a valid email address."),
    "email_taken": N_("An account with this email already exists."),
    "date_invalid": _DATE,
    "date_out_of_range": N_("Must be between %(min)s and %(max)s."),
    "idempotency_key_invalid": N_("Must have 1 to %(max)s visible ASCII characters."),
    "query_invalid": N_("The search query is not valid: %(reason)s."),
}


# a limit of one reads better said plainly ("at least 1 characters" does not)
ONE: dict[str, str] = {
    "string_too_short": N_("Must not be empty."),
    "too_short": N_("Must have at least one item."),
}


def _shown(value: Any, language: str) -> Any:
    """A placeholder's value as the language writes it (``1.000.000`` in pt-BR)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value.isoformat() if isinstance(value, date) else value
    return format_decimal(value, locale=language)


def _text(code: str, ctx: Mapping[str, Any], value: Any) -> str:
    """The msgid for ``code``; a blank text that fails a pattern is just empty."""
    if code in ONE and ctx.get("min_length") == 1:
        return ONE[code]
    if code == "string_pattern_mismatch" and isinstance(value, str) and not value.strip():
        return ONE["string_too_short"]
    return MESSAGES.get(code, FALLBACK)


def message(code: str, ctx: Mapping[str, Any] | None = None, value: Any = None) -> str:
    """The message of ``code`` (for the input ``value``) in the current language, ``ctx``
    filling its placeholders."""
    language = current_language()
    params = {key: _shown(item, language) for key, item in (ctx or {}).items()}
    text = _text(code, ctx or {}, value)
    try:
        return translate(text) % params
    except (KeyError, TypeError, ValueError):  # a ctx without the placeholder's value
        return translate(FALLBACK)


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's error list as ``[{loc, code, msg}]``, each ``msg`` translated."""
    return [
        {
            "loc": [str(part) for part in item.get("loc", ())],
            "code": str(item.get("type", "value_error")),
            "msg": message(str(item.get("type", "")), item.get("ctx"), item.get("input")),
        }
        for item in errors
    ]
