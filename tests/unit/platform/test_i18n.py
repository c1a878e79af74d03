"""Languages: Accept-Language negotiation, the CLI's language, and the pt-BR catalog's
completeness against every message marked in the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from gamestore.platform import i18n
from gamestore.platform.i18n import (
    N_,
    current_language,
    language_from_environment,
    negotiate,
    translate,
    use_language,
)

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ROOT / "src" / "gamestore"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "*",
        "de-DE, fr;q=0.9",  # nothing we speak
        "en;q=0",  # English refused
        "en;q=abc",  # an unreadable weight counts as no range at all
        "x-private, 12345, ;;;, q=1",  # junk
        "en-US," * 10_000,  # oversized: only the first ranges are looked at ...
    ],
)
def test_a_header_that_names_no_language_we_speak_gives_pt_br(header: str | None) -> None:
    expected = "en" if header == "en-US," * 10_000 else "pt_BR"  # ... and they are English
    assert negotiate(header) == expected


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("pt-BR", "pt_BR"),
        ("pt", "pt_BR"),  # a bare language is our variant of it
        ("pt-PT", "pt_BR"),
        ("PT-br", "pt_BR"),
        ("en", "en"),
        ("en-GB", "en"),
        ("fr-FR, en;q=0.5", "en"),
        ("en;q=0.4, pt-BR;q=0.8", "pt_BR"),  # weights rule, not order
        ("en-US,en;q=0.9,pt;q=0.8", "en"),
        ("pt;q=0, en", "en"),
    ],
)
def test_accept_language_is_negotiated_among_pt_br_and_en(header: str, language: str) -> None:
    assert negotiate(header) == language


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "pt_BR"),
        ({"LANG": "C.UTF-8"}, "pt_BR"),
        ({"LANG": "POSIX"}, "pt_BR"),
        ({"LANG": "de_DE.UTF-8"}, "pt_BR"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "pt_BR.UTF-8"}, "pt_BR"),
        ({"LANGUAGE": "fr:en", "LANG": "pt_BR.UTF-8"}, "en"),
    ],
)
def test_the_cli_language_comes_from_the_environment(
    environ: dict[str, str], language: str
) -> None:
    assert language_from_environment(environ) == language


def test_messages_are_translated_in_the_current_language_with_their_placeholders() -> None:
    service = "The %(service)s service did not answer in time."
    assert current_language() == "pt_BR"
    assert translate(service, {"service": "games"}) == "O serviço games não respondeu a tempo."
    with use_language("en"):
        assert translate(service, {"service": "games"}) == (
            "The games service did not answer in time."
        )
        assert current_language() == "en"
    with use_language("klingon"):  # not one we speak: the default
        assert translate("No such game.") == "Jogo não encontrado."
    assert translate("A message no catalog knows.") == "A message no catalog knows."
    assert N_("No such game.") == "No such game."


def test_fuzzy_entries_are_not_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = tmp_path / "pt_BR" / "LC_MESSAGES" / "gamestore.po"
    catalog.parent.mkdir(parents=True)
    catalog.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, fuzzy\nmsgid "No such game."\nmsgstr "Talvez um jogo."\n\n'
        'msgid "No such user."\nmsgstr "Usuário não encontrado."\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert translate("No such game.") == "No such game."
        assert translate("No such user.") == "Usuário não encontrado."
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()


def _marked_messages() -> set[str]:
    """Every msgid ``pybabel extract -F babel.cfg -k N_ -k _`` finds in the code."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(
        str(SOURCES), method_map, options_map, keywords={"_": None, "N_": None}
    )
    return {message for _, _, message, *_ in found if isinstance(message, str)}


def _pt_br() -> Catalog:
    with i18n.catalog_path("pt_BR").open("rb") as source:
        return read_po(source, locale="pt_BR")


def test_every_marked_message_is_translated_in_the_pt_br_catalog() -> None:
    marked, catalog = _marked_messages(), _pt_br()
    assert len(marked) > 50, "the extraction found too little: is babel.cfg still right?"
    missing = sorted(m for m in marked if m not in catalog)
    untranslated = sorted(m for m in marked if m in catalog and not catalog[m].string)
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert (missing, untranslated, fuzzy) == ([], [], [])
    stale = sorted(m.id for m in catalog if m.id and m.id not in marked)
    assert stale == [], "entries for messages no longer in the code"


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    catalog = _pt_br()
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert problems == []
    for message in catalog:
        if message.id and "%(" in str(message.id):
            assert message.python_format, message.id
