"""``tsdx bench``: measure tsdx against its ceilings on this machine, in one run.

It starts everything itself (a RabbitMQ virtual host of its own, the whole stack on embedded
SQLite, the ceiling servers, the load generators), prints one table of figures, ceilings,
ratios and targets, and with ``--write-docs`` rewrites docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from shared.settings import Settings
from tools.cli.broker_check import ensure_broker
from tools.cli.output import FAILED, OK, USAGE, CommandError, add_language_option, run_command
from tools.cli.parse_errors import number

DOCS = Path(__file__).resolve().parents[2] / "docs" / "performance.md"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "bench",
        help="measure throughput, latency and memory against raw RabbitMQ and bare FastAPI",
        description="Starts its own stack (fresh RabbitMQ vhost, embedded SQLite), measures, "
        "and prints one table: figure, value, ceiling, ratio, target.",
    )
    parser.add_argument(
        "--duration",
        type=number,
        default=None,
        help="seconds of sustained upload load (default 30; 3 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run with small counts (a smoke test)"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--catalog-only",
        action="store_true",
        help="measure only the catalog's figures (with --write-docs: rewrite only their section)",
    )
    only.add_argument(
        "--polls-only",
        action="store_true",
        help="measure only the inbox polls and the long polls, beside the bare endpoint "
        "(not with --write-docs: the other figures would be missing)",
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="write the results to docs/performance.md"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    add_language_option(parser)
    parser.set_defaults(run=lambda args: run_command(args, bench))


async def bench(args: argparse.Namespace) -> int:
    # Imported here: the bench pulls in what the other commands never need.
    from tools.bench.api import BenchError
    from tools.bench.plan import plan_for
    from tools.bench.report import (
        as_json,
        catalog_section,
        console,
        markdown,
        with_catalog_section,
    )
    from tools.bench.run import Bench
    from tools.bench.wire import WireError

    if args.duration is not None and args.duration <= 0:
        raise CommandError(USAGE, "cli_bench_bad_duration", value=args.duration)
    if args.polls_only and args.write_docs:
        raise CommandError(USAGE, "cli_bench_polls_only_docs")
    ensure_broker(Settings().amqp_url, args.lang)
    started = time.monotonic()

    def progress(step: str) -> None:
        print(f"bench [{time.monotonic() - started:5.1f} s] {step}", file=sys.stderr, flush=True)

    runner = Bench(
        plan_for(args.duration, args.quick),
        progress,
        only_catalog=args.catalog_only,
        only_polls=args.polls_only,
    )
    try:
        results = await runner.run()
    except (BenchError, WireError, RuntimeError, TimeoutError, OSError) as exc:
        raise CommandError(
            FAILED,
            "cli_bench_failed",
            reason=str(exc) or type(exc).__name__,
            logs=str(runner.scratch),
        ) from exc
    print(console(results))
    if args.json is not None:
        args.json.write_text(as_json(results) + "\n")
    if args.write_docs and args.catalog_only:
        current = DOCS.read_text(encoding="utf-8")
        DOCS.write_text(with_catalog_section(current, catalog_section(results)))
        print(f"bench: written the catalog section of {DOCS}", file=sys.stderr)
    elif args.write_docs:
        DOCS.write_text(markdown(results))
        print(f"bench: written {DOCS}", file=sys.stderr)
    return OK
