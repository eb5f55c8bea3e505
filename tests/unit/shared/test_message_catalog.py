"""The one message catalog (shared/i18n.py with the screens' words of shared/i18n_ui.py):
every text in both languages, the same parameters in both, and Russian that is Russian."""

from __future__ import annotations

import re
import string

import pytest

from shared.i18n import CATALOG, LANGUAGES, MESSAGES, render, text, word
from shared.i18n_ui import UI_TEXTS

KEYS = sorted(CATALOG)

# Latin words a Russian text may hold: product names, formats, units and protocols.
ALLOWED_LATIN = {
    "tsdx", "PIN", "API", "JSON", "HTTP", "HTTPS", "AMQP", "URL", "CSV", "GUID", "UTF",
    "XDTO", "DocumentObject", "MongoDB", "mongodump", "JavaScript", "RabbitMQ", "sqlite",
    "SQLite", "QR", "GET", "Ctrl", "Bearer",
}  # fmt: skip
# What is written as it is typed, not translated: a command line (tsdx and its words, an
# option), an environment variable, an address or a path.
AS_TYPED = re.compile(
    r"(?m)^ {4}.*$"  # an indented line: a command to type
    r"|tsdx(?: [a-z][a-z-]*)+"  # a tsdx command: tsdx tsd pair, tsdx upload-status
    r"|--[a-z][a-z-]*(?:[ =][\w.+-]+)?"  # an option, with its value: --format 1c-json
    r"|\?\S+"  # a query string: ?format=1c-json
    r"|\b[a-z]+(?:_[a-z]+)+\b"  # a field's name: request_id
    r"|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b"  # an environment variable
    r"|\S*[/:]\S*"  # an address, a path, an endpoint
)
# A parameter: str.format's, or %-style in argparse's messages (cli.argparse.*).
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sr]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_the_screens_words_and_the_codes_are_one_catalog_without_overlap() -> None:
    assert not MESSAGES.keys() & UI_TEXTS.keys()
    assert CATALOG.keys() == MESSAGES.keys() | UI_TEXTS.keys()
    assert all(key.startswith(("cli.", "dashboard.")) for key in UI_TEXTS)


@pytest.mark.parametrize("key", KEYS)
def test_every_text_has_both_languages_with_the_same_parameters(key: str) -> None:
    texts = CATALOG[key]
    assert set(texts) == set(LANGUAGES), key
    assert all(texts[language].strip() for language in LANGUAGES), key
    assert _fields(texts["ru"]) == _fields(texts["en"]), key


@pytest.mark.parametrize("key", KEYS)
def test_russian_texts_hold_no_english_words(key: str) -> None:
    russian = AS_TYPED.sub(" ", PLACEHOLDER.sub(" ", CATALOG[key]["ru"]))
    english = [w for w in LATIN_WORD.findall(russian) if w not in ALLOWED_LATIN]
    assert english == [], f"{key}: {CATALOG[key]['ru']!r}"


def test_the_check_for_english_words_catches_them() -> None:
    # The filters above must not hide a plain English word.
    caught = LATIN_WORD.findall(AS_TYPED.sub(" ", "группа group, пользователь user"))
    assert caught == ["group", "user"]


def test_screen_texts_render_in_either_language_and_unknown_keys_fail_loudly() -> None:
    assert text("cli.tsd.logged_out", "ru", login="ivanov") == "ivanov: выход выполнен"
    assert text("cli.tsd.logged_out", "en", login="ivanov") == "ivanov: logged out"
    with pytest.raises(KeyError):
        text("cli.no_such_text", "ru")
    # A code from the wire that tsdx does not know is shown as it came.
    assert render("no_such_code", "ru") == "no_such_code"


def test_status_words_are_translated_and_unknown_ones_shown_as_they_came() -> None:
    assert word("completed", "ru") == "завершён"
    assert word("completed", "en") == "completed"
    assert word("group", "ru", prefix="dashboard.target_") == "группа"
    assert word("brand-new-state", "ru") == "brand-new-state"


def test_a_target_kind_or_channel_in_a_message_is_said_in_the_reader_s_words() -> None:
    params = {"target": "group", "channel": "internet"}
    said = render("target_not_allowed_on_channel", "ru", params)
    assert "«группа»" in said and "«интернет»" in said
    assert "“group”" in render("target_not_allowed_on_channel", "en", params)
    assert render("target_incomplete", "ru", {"target": "device"}).endswith("«устройство».")
    assert params == {"target": "group", "channel": "internet"}  # the answer's params unchanged


def test_only_the_target_refusals_take_a_worded_target_or_channel() -> None:
    """``target`` and ``channel`` are said in the reader's words in every message (render):
    a new message naming, say, a target's value under one of them would be mistranslated."""
    worded = {
        key
        for key, texts in CATALOG.items()
        for template in texts.values()
        for _, name, _, _ in string.Formatter().parse(template)
        if name in ("target", "channel")
    }
    assert worded == {"target_not_allowed_on_channel", "target_incomplete"}


def test_a_process_not_found_says_the_one_meant_when_there_is_one() -> None:
    meant = {"process": "purchase-reciept", "nearest": "purchase-receipt"}
    assert render("process_not_found", "ru", meant) == (
        "Бизнес-процесс «purchase-reciept» не найден (может быть, «purchase-receipt»?)."
    )
    assert render("process_not_found", "en", meant) == (
        "Business process “purchase-reciept” was not found (did you mean “purchase-receipt”?)."
    )
    # Nothing close, or a refusal stored before the hint existed: the sentence alone.
    assert render("process_not_found", "ru", {"process": "x", "nearest": ""}) == (
        "Бизнес-процесс «x» не найден."
    )
    assert render("process_not_found", "en", {"process": "x"}) == (
        "Business process “x” was not found."
    )
