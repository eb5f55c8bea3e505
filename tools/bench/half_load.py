"""The upload → inbox latency at steady rates, on a stack of its own: the bench's half-load
figure at rates you choose, several times, so that two builds can be compared on one machine.

``python -m tools.bench.half_load [rate ...] [--rounds N] [--seconds S]``

The stack (a RabbitMQ virtual host of its own, every service its own process) and the
bench's terminals are set up as ``tsdx bench`` does, warmed up by its closed loop of uploads
for a few seconds; then, round after round, uploads are started at each rate in turn,
whenever they are due, as the bench's half-load phase does (its warm-up too). Each round
prints the latency's percentiles and its longest, and the CPU each process spent per
document: a figure at a fixed rate, where the bench's half load follows the full load's rate
(and so the machine's speed). The services' logs are removed after a run that went through,
and kept (their directory printed) after one that failed.
"""

from __future__ import annotations

import argparse
import asyncio
import math

from shared.collector import long_lived_frozen
from tools.bench.own_stack import OwnStack, own_stack
from tools.bench.plan import plan_for
from tools.bench.rounds import add_rounds, check_rounds
from tools.bench.uploads import UploadDriver

WARMUP_SECONDS = 5.0
# Bounds of what the command line may ask (uploads started whatever the answers: an absurd
# rate would only fill the memory with tasks).
MAX_RATE = 5000.0


async def _rounds(
    own: OwnStack, driver: UploadDriver, rates: list[float], rounds: int, seconds: float
) -> None:
    for run in range(rounds):
        for rate in rates:
            outcome, cpu = await own.metered(
                driver.open_loop(rate, own.bench.plan.half_warmup, seconds)
            )
            latency = outcome.latency
            longest = max(seen - due for due, seen in outcome.counted)
            print(
                f"round {run + 1}, {rate:g} docs/s: p50 {1000 * latency.p50:.1f}, "
                f"p95 {1000 * latency.p95:.1f}, p99 {1000 * latency.p99:.1f}, "
                f"longest {1000 * longest:.1f} ms; late starts {outcome.late_starts}, "
                f"errors {sum(outcome.errors.values())}; CPU ms a document: {cpu}"
            )


async def main(rates: list[float], rounds: int, seconds: float) -> None:
    plan = plan_for(None, quick=False)
    async with own_stack(plan, "Половина нагрузки", plan.terminals, "HALF") as own:
        driver = UploadDriver(own.pool, own.tenant["api_key"], own.terminals, plan.upload_lines)
        warm = await driver.closed_loop(plan.lanes, 1.0, WARMUP_SECONDS)
        print(f"warm-up: {warm.rate:.0f} docs/s with {plan.lanes} uploaders")
        async with long_lived_frozen(full_passes=False):  # the client's collector as the bench's
            await _rounds(own, driver, rates, rounds, seconds)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, each value checked (argparse exits with a message that says which)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.half_load", description=__doc__.splitlines()[0]
    )
    parser.add_argument("rates", type=float, nargs="*", default=[75.0], help="documents/s")
    add_rounds(parser, "each rate")
    args = parser.parse_args(argv)
    if not all(math.isfinite(rate) and 0 < rate <= MAX_RATE for rate in args.rates):
        parser.error(f"each rate must be a number of documents/s above 0, at most {MAX_RATE:g}")
    check_rounds(parser, args)
    return args


if __name__ == "__main__":
    given = arguments()
    asyncio.run(main(given.rates, given.rounds, given.seconds))
