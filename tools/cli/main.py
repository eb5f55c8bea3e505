"""Entry point of the ``tsdx`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from shared.version import VERSION
from tools.cli import (
    accounting,
    admin,
    backup,
    bench,
    catalog,
    contract,
    demo,
    documents,
    keys,
    processes,
    tsd,
    up,
)
from tools.cli.output import add_language_option, language_default
from tools.cli.parse_errors import Parser, language_asked, read_in

COMMAND_MODULES = [
    up,
    accounting,
    catalog,
    tsd,
    demo,
    contract,
    admin,
    processes,
    documents,
    bench,
    backup,
    keys,
]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tsdx",
        description="tsdx: exchange server between accounting systems and barcode terminals",
    )
    parser.add_argument("--version", action="version", version=f"tsdx {VERSION}")
    add_language_option(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    with read_in(language_asked(given, language_default()), given):
        args = build_parser().parse_args(given)
    code: int = args.run(args)
    return code


def run() -> None:
    """The ``tsdx`` console script."""
    try:
        try:
            code = main()
        finally:
            sys.stdout.flush()  # here, not at exit, so that a reader that has gone is caught
    except BrokenPipeError:
        # The reader has gone (``tsdx tsd inbox | head -3``): nothing left to say, and no
        # traceback. Python's own flush at exit would fail the same way: stdout goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    run()
