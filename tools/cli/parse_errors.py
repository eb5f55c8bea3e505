"""argparse's own messages (a missing argument, an unknown option, a wrong choice) in the
reader's language.

argparse says them through gettext: each is looked up (``argparse._``) when it is formatted,
the English text as the key. While the command line is read in Russian, that lookup finds
the Russian in the one catalog (``cli.argparse.*``, whose English is argparse's text word for
word); a message not there stays English. The usage line and ``--help`` stay English, as the
options' own help is (docs/cli.md).
"""

from __future__ import annotations

import argparse
import difflib
import functools
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from shared.i18n import LANGUAGES
from shared.i18n_ui import UI_TEXTS

_PREFIX = "cli.argparse."
# The language the command line is being read in (see :func:`read_in`).
_reading_in = ["en"]


@functools.cache
def _russian() -> dict[str, str]:
    return {t["en"]: t["ru"] for key, t in UI_TEXTS.items() if key.startswith(_PREFIX)}


def said(english: str) -> str:
    """argparse's message (or a command's check of an option) in the language being read."""
    return _russian().get(english, english) if _reading_in[-1] == "ru" else english


@contextmanager
def read_in(language: str, argv: Sequence[str] = ()) -> Iterator[None]:
    """argparse's messages in ``language`` while the block reads the command line ``argv``
    (the options a :class:`Parser`'s refusal looks at)."""
    original = argparse._  # type: ignore[attr-defined]
    _reading_in.append(language)
    _reading.append(list(argv))
    argparse._ = said  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]
        _reading_in.pop()
        _reading.pop()


# The command line being read (see :func:`read_in`).
_reading: list[list[str]] = [[]]


class Parser(argparse.ArgumentParser):
    """argparse's parser whose refusal also names the option a mistyped one most likely is
    («может быть, --process вместо --proccess?»), and the choice a mistyped one most likely is
    («tsdx device blok»: «может быть, block?»): its commands' parsers are of its kind."""

    def error(self, message: str) -> NoReturn:
        super().error(message + _nearest_options(self, _reading[-1]))

    def _check_value(self, action: argparse.Action, value: object) -> None:
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            choices = [str(choice) for choice in action.choices or ()]
            close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
            if not close:
                raise
            raise argparse.ArgumentError(
                action, exc.message + said("; did you mean %s?") % close[0]
            ) from None


def _nearest_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str:
    """The options of the command line that no parser of its command takes, each with the one
    it comes closest to, as a refusal's tail; "" when there is none."""
    known = _options_of(_commands_named(parser, argv))
    said_as = []
    for arg in argv:
        given = arg.split("=", 1)[0]
        if not given.startswith("--") or given in known or any(o.startswith(given) for o in known):
            continue  # not an option, or one argparse takes (whole or abbreviated)
        close = difflib.get_close_matches(given, sorted(known), n=1, cutoff=0.7)
        if close:
            said_as.append(
                said("%(meant)s instead of %(given)s") % {"meant": close[0], "given": given}
            )
    return said("; did you mean %s?") % ", ".join(said_as) if said_as else ""


def _commands_named(
    parser: argparse.ArgumentParser, argv: Sequence[str]
) -> list[argparse.ArgumentParser]:
    """The top parser and the parsers of the command (and its action) ``argv`` names."""
    chain = [parser]
    for arg in argv:
        commands = [a for a in chain[-1]._actions if isinstance(a, argparse._SubParsersAction)]
        if commands and arg in commands[0].choices:
            chain.append(commands[0].choices[arg])
    return chain


def _options_of(parsers: Sequence[argparse.ArgumentParser]) -> set[str]:
    return {option for p in parsers for a in p._actions for option in a.option_strings}


def number(text: str) -> float:
    """An option's number (``--wait 2.5``): what is not a finite one is refused in the
    language being read («не число: 'abc'»), not as argparse's «invalid float value»."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(said("not a number: %(value)r") % {"value": text})
    return value


def whole_number(text: str) -> int:
    """An option's whole number (``--count 3``), refused as :func:`number` refuses."""
    try:
        return int(text)
    except ValueError:
        message = said("not a whole number: %(value)r") % {"value": text}
        raise argparse.ArgumentTypeError(message) from None


def language_asked(argv: Sequence[str], default: str) -> str:
    """The language ``--lang`` asks for (the last one given wins, as when the options are
    read), else ``default``; a value that is no language leaves the default, and argparse
    then refuses it."""
    asked = default
    for n, arg in enumerate(argv):
        if arg == "--lang" and n + 1 < len(argv):
            value = argv[n + 1]
        elif arg.startswith("--lang="):
            value = arg.removeprefix("--lang=")
        else:
            continue
        if value in LANGUAGES:
            asked = value
    return asked
