"""``tsdx secret-key``: a new key for ``TSDX_SECRET_KEYS`` (encryption of secrets at rest)."""

from __future__ import annotations

import argparse

from shared.secret_box import new_key


def _secret_key(args: argparse.Namespace) -> int:
    print(new_key())
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "secret-key", help="print a new key for TSDX_SECRET_KEYS (see docs/deploy.md)"
    )
    command.set_defaults(run=_secret_key)
