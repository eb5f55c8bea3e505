"""argparse's own messages in the reader's language, and the language read before parsing."""

from __future__ import annotations

import argparse
import re
from collections import Counter

import pytest

from shared.i18n_ui import UI_TEXTS
from tools.cli.main import main
from tools.cli.parse_errors import language_asked, read_in, said

PERCENT = re.compile(r"%(?:\([a-z_]+\))?[sr]")
# Messages with no value to fill (argparse's and the command's own checks).
WITHOUT_VALUES = {
    "cli.argparse.one",
    "cli.argparse.at_most_one",
    "cli.argparse.at_least_one",
    "cli.argparse.batch_range",
}


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_a_missing_argument_is_said_in_russian_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TSDX_LANGUAGE", raising=False)
    monkeypatch.delenv("TSDX_DEFAULT_LANGUAGE", raising=False)
    err = _refused(["upload"], capsys)
    assert err.startswith("usage: tsdx upload")  # the usage line, like --help, in English
    assert err.endswith("tsdx upload: ошибка: не указаны обязательные аргументы: FILE, --process\n")


def test_english_when_asked_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSDX_LANGUAGE", "ru")
    for argv in (["--lang", "en", "upload"], ["upload", "--lang=en"]):
        err = _refused(argv, capsys)
        assert err.endswith("error: the following arguments are required: FILE, --process\n")


def test_a_wrong_choice_and_an_unknown_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSDX_LANGUAGE", "ru")
    assert "аргумент COMMAND: недопустимое значение 'uplod' (допустимые: 'up', " in _refused(
        ["uplod"], capsys
    )
    assert "ошибка: неизвестные аргументы: --limit x" in _refused(
        ["devices", "--limit", "x"], capsys
    )
    # A language that is none: refused in the default one.
    assert "аргумент --lang: недопустимое значение 'de' (допустимые: 'ru', 'en')" in _refused(
        ["devices", "--lang", "de"], capsys
    )


def test_the_lookup_is_put_back_after_reading(capsys: pytest.CaptureFixture[str]) -> None:
    before = argparse._  # type: ignore[attr-defined]
    _refused(["--lang", "ru", "upload"], capsys)
    assert argparse._ is before  # type: ignore[attr-defined]
    assert said("the following arguments are required: %s") == (
        "the following arguments are required: %s"  # outside reading: English
    )
    with read_in("ru"):
        assert said("the following arguments are required: %s").startswith("не указаны")
        assert said("a message argparse may add one day") == "a message argparse may add one day"


def test_each_russian_message_keeps_its_english_placeholders() -> None:
    # A Russian text missing one of argparse's values would fail with a traceback.
    for key, texts in UI_TEXTS.items():
        if key.startswith("cli.argparse."):
            assert Counter(PERCENT.findall(texts["ru"])) == Counter(PERCENT.findall(texts["en"]))
            assert PERCENT.findall(texts["en"]) or key in WITHOUT_VALUES, key


@pytest.mark.parametrize(
    ("argv", "language"),
    [
        ([], "ru"),
        (["--lang", "en", "devices"], "en"),
        (["--lang=en", "devices", "--lang", "ru"], "ru"),  # the last wins
        (["devices", "--lang", "de"], "ru"),  # no language: the default
        (["devices", "--lang"], "ru"),  # no value
    ],
)
def test_the_language_asked_before_the_options_are_read(argv: list[str], language: str) -> None:
    assert language_asked(argv, "ru") == language


def test_without_lang_the_default_is_kept() -> None:
    assert language_asked(["devices"], "en") == "en"
    assert language_asked(["--lang", "ru"], "en") == "ru"


def test_a_number_option_s_bad_value_is_said_in_the_reader_s_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSDX_LANGUAGE", "ru")
    assert "аргумент --wait: не число: 'скоро'" in _refused(
        ["tsd", "inbox", "--wait", "скоро"], capsys
    )
    assert "аргумент --wait: не число: 'nan'" in _refused(["tsd", "inbox", "--wait", "nan"], capsys)
    assert "аргумент --count: не целое число: '2.5'" in _refused(
        ["tsd", "run", "--count", "2.5"], capsys
    )
    english = _refused(["tsd", "run", "--count", "two", "--lang", "en"], capsys)
    assert "argument --count: not a whole number: 'two'" in english


def test_a_mistyped_option_is_told_the_one_it_most_likely_is(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSDX_LANGUAGE", "ru")
    refused = _refused(["upload", "x.json", "--pin", "1", "--proccess", "a"], capsys)
    assert refused.endswith(
        "ошибка: не указаны обязательные аргументы: --process; "
        "может быть, --process вместо --proccess?\n"
    )
    english = _refused(["tsd", "run", "--code", "x", "--cout", "3", "--lang", "en"], capsys)
    assert english.endswith(
        "unrecognized arguments: --cout 3; did you mean --count instead of --cout?\n"
    )
    # A mistyped action: the one it most likely is, after the ones there are.
    assert _refused(["device", "blok"], capsys).endswith("может быть, block?\n")
    # Nothing close: the refusal as argparse says it.
    nothing_close = _refused(["tsd", "run", "--code", "x", "--xyzzy"], capsys)
    assert nothing_close.endswith("неизвестные аргументы: --xyzzy\n")
