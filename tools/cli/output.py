"""What the client commands of ``tsdx`` share: exit codes, errors in the operator's language,
the server options, tables, and a plain-text progress bar.

Exit codes a script can rely on:

- 0 ``OK``: done;
- 1 ``FAILED``: a check did not hold (``tsdx demo``);
- 2 ``USAGE``: wrong options or a bad input file; nothing was sent;
- 3 ``REFUSED``: the server refused (its code and message are printed);
- 4 ``UNREACHABLE``: no answer from the server, or it is temporarily unavailable (503);
- 5 ``PENDING``: accepted, but routing has not decided yet (HTTP 202).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TextIO

import httpx

from shared.i18n import LANGUAGES, render, text, word
from shared.i18n_ui import UI_TEXTS
from tools.client import ApiError

OK = 0
FAILED = 1
USAGE = 2
REFUSED = 3
UNREACHABLE = 4
PENDING = 5

# The gateway a command talks to when neither --url nor TSDX_URL says: the one `tsdx up` starts
# on this machine, on its port (TSDX_GATEWAY_PORT, as the stack reads it).
URL_HELP = "the gateway's address (TSDX_URL; default http://127.0.0.1:$TSDX_GATEWAY_PORT, 8080)"


def default_gateway_url() -> str:
    port = os.environ.get("TSDX_GATEWAY_PORT", "").strip()
    return os.environ.get("TSDX_URL") or f"http://127.0.0.1:{port if port.isdigit() else 8080}"


class CommandError(Exception):
    """A command cannot go on: an exit code and a message code from ``shared.i18n``."""

    def __init__(
        self, exit_code: int, code: str, *, subject: str | None = None, **params: Any
    ) -> None:
        super().__init__(code)
        self.exit_code = exit_code
        self.code = code
        self.subject = subject  # what the message is about, e.g. the input file
        self.params = params

    def message(self, language: str) -> str:
        text = render(self.code, language, self.params)
        return f"{self.subject}: {text}" if self.subject else text


def language_default() -> str:
    """TSDX_LANGUAGE, else the server's TSDX_DEFAULT_LANGUAGE, else Russian."""
    for variable in ("TSDX_LANGUAGE", "TSDX_DEFAULT_LANGUAGE"):
        chosen = os.environ.get(variable, "").strip().lower()
        if chosen in LANGUAGES:
            return chosen
    return "ru"


def add_server_options(parser: argparse.ArgumentParser, *, api_key: bool) -> None:
    parser.add_argument(
        "--url",
        default=default_gateway_url(),
        help=URL_HELP,
    )
    if api_key:
        parser.add_argument(
            "--api-key",
            default=os.environ.get("TSDX_API_KEY"),
            help="the accounting base's API key (TSDX_API_KEY)",
        )
    add_language_option(parser)


def add_language_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--lang`` before the command (``tsdx --lang en demo``) or after it; the one after wins.
    Only the top level has a default, so a command's own option, when left out, keeps it."""
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=language_default() if top else argparse.SUPPRESS,
        help="language of messages and output (TSDX_LANGUAGE; default ru)",
    )


def require_api_key(args: argparse.Namespace) -> str:
    key: str | None = args.api_key
    if not key:
        raise CommandError(USAGE, "cli_api_key_missing")
    return key


def unreachable(url: str, exc: BaseException) -> CommandError:
    return CommandError(
        UNREACHABLE, "cli_server_unreachable", url=url, transport_error=transport_error(exc)
    )


def transport_error(exc: BaseException) -> str:
    """Why a call got no answer, as the messages' ``transport_error`` takes it: the error's
    class where the catalog says it in words (``cli.transport.*``), else its own text."""
    name = type(exc).__name__
    return name if f"cli.transport.{name}" in UI_TEXTS else error_text(exc)


def error_text(exc: BaseException) -> str:
    """What went wrong, in the error's own words (its type when it has none)."""
    return str(exc) or type(exc).__name__


def refusal_line(error: ApiError) -> str:
    return f"{error.status} {error.code}: {error.message}"


def exit_code_of(error: ApiError) -> int:
    # 503: the exchange server is up but cannot work now; a script retries like a lost link.
    return UNREACHABLE if error.status == 503 else REFUSED


def run_command(
    args: argparse.Namespace, command: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
) -> int:
    """Run an async command and turn what went wrong into a message and an exit code."""
    language: str = getattr(args, "lang", language_default())
    try:
        return asyncio.run(command(args))
    except CommandError as exc:
        say(f"tsdx: {exc.message(language)}")
        return exc.exit_code
    except ApiError as exc:
        say(f"tsdx: {refusal_line(exc)}")
        return exit_code_of(exc)
    except httpx.TransportError as exc:
        # Read now: a command that finds its server itself (a terminal's state file) sets it.
        url = getattr(args, "url", None) or ""
        say(f"tsdx: {unreachable(url, exc).message(language)}")
        return UNREACHABLE
    except KeyboardInterrupt:
        return 130


def say(text: str) -> None:
    """A message for the operator, not for a script reading stdout."""
    print(text, file=sys.stderr, flush=True)


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in headers], *([("" if c is None else str(c)) for c in r] for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def columns(language: str, *names: str) -> list[str]:
    """A table's headers in the reader's language: ``cli.col.<name>`` of the catalog."""
    return [text(f"cli.col.{name}", language) for name in names]


def moment(iso: str | None, language: str, *, date_only: bool = False) -> str:
    """A time from the API as the reader writes it: «07.12.2026 08:15:51» in Russian,
    ``2026-12-07 08:15:51`` in English; one with a zone in this machine's own time. Anything
    that is not such a time, as it came; none, a dash."""
    if not iso:
        return "—"
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is not None and not date_only:  # a document's date is shown as written
        when = when.astimezone()
    shown = "%d.%m.%Y" if language == "ru" else "%Y-%m-%d"
    return when.strftime(shown if date_only else shown + " %H:%M:%S")


def target_text(target: dict[str, Any] | None, language: str) -> str:
    """Whom a document is for, in words: «группа Кладовщики», «все»."""
    target = target or {}
    kind = word(str(target.get("kind")), language)
    return f"{kind} {target.get('value') or ''}".rstrip()


class Progress:
    """``[#########...........] 12/40 files`` on stderr: redrawn on a terminal, else a line
    at every tenth of the way (so a log file stays short)."""

    WIDTH = 30

    def __init__(self, total: int, unit: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.unit = unit
        self.done = 0
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._last_tenth = -1

    def bar(self) -> str:
        filled = self.WIDTH * self.done // self.total
        return f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} {self.unit}"

    def advance(self, step: int = 1) -> None:
        self.done = min(self.total, self.done + step)
        if self._tty:
            self._stream.write(f"\r{self.bar()}")
            if self.done == self.total:
                self._stream.write("\n")
        else:
            tenth = 10 * self.done // self.total
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self._stream.write(f"{self.bar()}\n")
        self._stream.flush()


def big_digits(text: str) -> str:
    """Digits drawn five lines high in plain ``#``: the PIN as a terminal's side menu shows it."""
    rows = ["", "", "", "", ""]
    for char in text:
        glyph = _GLYPHS.get(char, _GLYPHS[" "])
        for i in range(5):
            rows[i] += glyph[i] + "  "
    return "\n".join(row.rstrip() for row in rows)


_GLYPHS: dict[str, tuple[str, str, str, str, str]] = {
    "0": ("####", "#  #", "#  #", "#  #", "####"),
    "1": ("  # ", " ## ", "  # ", "  # ", " ###"),
    "2": ("####", "   #", "####", "#   ", "####"),
    "3": ("####", "   #", " ###", "   #", "####"),
    "4": ("#  #", "#  #", "####", "   #", "   #"),
    "5": ("####", "#   ", "####", "   #", "####"),
    "6": ("####", "#   ", "####", "#  #", "####"),
    "7": ("####", "   #", "  # ", " #  ", " #  "),
    "8": ("####", "#  #", "####", "#  #", "####"),
    "9": ("####", "#  #", "####", "   #", "####"),
    " ": ("    ", "    ", "    ", "    ", "    "),
}
