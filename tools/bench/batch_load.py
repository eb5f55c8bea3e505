"""The bench's upload rounds at the numbers of uploaders you choose, on a stack of its own,
round after round, so that two builds can be compared on one machine.

``python -m tools.bench.batch_load [UPLOADERS ...] [--documents D] [--rounds N] [--seconds S]``

The stack and the terminals are set up as ``tsdx bench`` does (``tools.bench.own_stack``, the
bench's 256 terminals: each delivery takes a free one, so no terminal's inbox grows round
after round); each round runs the bench's closed loop of uploads of ``--documents`` documents
(50 by default, the bench's 50-document round; 1 with 32 uploaders is its sustained round):
each uploader uploads them to a terminal, which long-polls until all are listed and
acknowledges them, for the bench's warm-up of that round and then ``--seconds``, and prints
the documents listed a second and the CPU each process spent per document. The bench itself
compares the figure with the skeleton's single-document rate, measured in the same run; this
tool prints the rate alone, to compare builds run back to back.
"""

from __future__ import annotations

import argparse
import asyncio

from shared.collector import long_lived_frozen
from shared.contracts.results import PROGRESSED_COPIES_MAX
from tools.bench.own_stack import own_stack
from tools.bench.plan import plan_for
from tools.bench.rounds import add_rounds, check_rounds
from tools.bench.uploads import UploadDriver

# Bounds of what the command line may ask: each uploader holds a terminal while it delivers.
MAX_UPLOADERS = 64
# The terminal acknowledges an upload's documents in one call, which takes this many.
MAX_DOCUMENTS = PROGRESSED_COPIES_MAX


async def main(uploaders: list[int], rounds: int, seconds: float, documents: int) -> None:
    plan = plan_for(None, quick=False)
    async with own_stack(plan, "Пакеты", plan.terminals, "BATCH") as own:
        driver = UploadDriver(
            own.pool, own.tenant["api_key"], own.terminals, plan.upload_lines, documents
        )
        warmup = plan.upload_warmup if documents == 1 else plan.batch_warmup
        async with long_lived_frozen(full_passes=False):  # the client's collector as the bench's
            for run in range(rounds):
                for lanes in uploaders:
                    outcome, cpu = await own.metered(driver.closed_loop(lanes, warmup, seconds))
                    print(
                        f"round {run + 1}, {lanes} uploaders: {outcome.rate:.0f} docs/s, "
                        f"errors {sum(outcome.errors.values())}; CPU ms a document: {cpu}"
                    )


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, each value checked (argparse exits with a message that says which)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.batch_load", description=__doc__.splitlines()[0]
    )
    parser.add_argument("uploaders", type=int, nargs="*", default=[8])
    parser.add_argument(
        "--documents",
        type=int,
        default=plan_for(None, quick=False).batch_documents,
        help="documents an upload (1: the bench's sustained round)",
    )
    add_rounds(parser, "each round")
    args = parser.parse_args(argv)
    if not all(1 <= lanes <= MAX_UPLOADERS for lanes in args.uploaders):
        parser.error(f"each number of uploaders must be from 1 to {MAX_UPLOADERS}")
    if not 1 <= args.documents <= MAX_DOCUMENTS:
        parser.error(f"--documents must be from 1 to {MAX_DOCUMENTS}")
    check_rounds(parser, args)
    return args


if __name__ == "__main__":
    given = arguments()
    asyncio.run(main(given.uploaders, given.rounds, given.seconds, given.documents))
