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
import functools
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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
def read_in(language: str) -> Iterator[None]:
    """argparse's messages in ``language`` while the block reads the command line."""
    original = argparse._  # type: ignore[attr-defined]
    _reading_in.append(language)
    argparse._ = said  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]
        _reading_in.pop()


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
