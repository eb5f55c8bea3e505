"""The command line the bench's probes share (``half_load``, ``batch_load``): how many rounds,
and how many seconds each measures, checked."""

from __future__ import annotations

import argparse
import math

# Bound of one round: the probes run the stack round after round, not for hours.
MAX_SECONDS = 600.0


def add_rounds(parser: argparse.ArgumentParser, each: str) -> None:
    """``--rounds`` and ``--seconds`` (measured, ``each``)."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0, help=f"measured, {each}")


def check_rounds(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with argparse's message when ``--rounds`` or ``--seconds`` cannot work."""
    if not (math.isfinite(args.seconds) and 1 <= args.seconds <= MAX_SECONDS):
        parser.error(f"--seconds must be from 1 to {MAX_SECONDS:g}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
