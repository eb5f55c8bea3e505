"""``tsdx catalog upload FILE``: a base's catalog (справочники) from a file to the exchange
server, in calls of ``--batch`` items, with a progress bar.

The whole file is read and checked first (every wrong item named, nothing sent). Then
warehouses go first, then cells, products and deletions, so a cell's warehouse is always
there before it. Each call is all-or-nothing on the server; the file as a whole is not: a
refused call stops the upload, and what earlier calls applied stays. Sending the same file
again is safe and cheap: items that did not change cost no version and travel nowhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from shared.catalog.batch import LISTS as KIND_LISTS
from shared.catalog.batch import Batch, CatalogInvalid, read_batch, rendered
from shared.contracts.catalog import KINDS
from shared.i18n import render
from shared.onec.catalog_import import read_catalog_json
from shared.onec.errors import OneCImportError
from tools.cli.output import (
    OK,
    REFUSED,
    USAGE,
    CommandError,
    Progress,
    add_server_options,
    print_json,
    require_api_key,
    run_command,
    say,
    unreachable,
)
from tools.cli.parse_errors import said, whole_number
from tools.client import AccountingClient

LISTS: dict[str, str] = {str(kind): name for kind, name in KIND_LISTS.items()}
DEFAULT_BATCH = 5000
# Wrong items printed before "… and N more".
SHOWN_ERRORS = 20


def read_file(path: Path, store: str | None) -> Batch:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(USAGE, "cli_file_not_found", subject=str(path)) from None
    except OSError as exc:
        raise CommandError(
            USAGE, "cli_file_unreadable", subject=str(path), reason=exc.strerror or str(exc)
        ) from None
    try:
        native = read_catalog_json(data)
    except OneCImportError as exc:
        raise CommandError(USAGE, exc.code, subject=str(path), **exc.params) from None
    if store is not None:
        native["store"] = store
    return read_batch(native, max_items=10**9)


def calls(batch: Batch, size: int) -> Iterator[tuple[dict[str, Any], dict[str, int]]]:
    """The calls to make: each body with at most ``size`` items, and for each kind where its
    items start in the file (to name an item refused by the server by its place in the file)."""
    items: list[tuple[str, int, dict[str, Any]]] = []
    for kind in ("warehouse", "cell", "product"):
        for index, item in enumerate(getattr(batch, LISTS[kind])):
            items.append((kind, batch.position(kind, index), item))
    for kind in KINDS:
        for index, item_id in enumerate(batch.deleted[kind]):
            items.append(("delete:" + kind, index + 1, {"id": item_id}))
    for start in range(0, len(items), size):
        body: dict[str, Any] = {"store": batch.store}
        offsets: dict[str, int] = {}
        for kind, position, item in items[start : start + size]:
            offsets.setdefault(kind, position - 1)
            if kind.startswith("delete:"):
                deleted = body.setdefault("delete", {}).setdefault(LISTS[kind[7:]], [])
                deleted.append(item["id"])
            else:
                body.setdefault(LISTS[kind], []).append(item)
        yield body, offsets


async def _upload(args: argparse.Namespace) -> int:
    api_key = require_api_key(args)
    path = Path(args.file)
    try:
        batch = read_file(path, args.store)
    except CatalogInvalid as exc:
        _print_errors(exc.total, [e.as_json() for e in exc.errors], args.lang, str(path))
        return USAGE
    progress = Progress(batch.size, render("cli_catalog_items", args.lang))
    totals = {"changed": 0, "unchanged": 0, "version": 0}
    async with AccountingClient(args.url, api_key, language=args.lang, timeout=120) as client:
        for body, offsets in calls(batch, args.batch):
            try:
                answer = await client.upload_catalog(body)
            except httpx.TransportError as exc:
                raise unreachable(args.url, exc) from None
            if answer.get("code") is not None:
                errors = [_in_file(e, offsets) for e in answer.get("errors", [])]
                _print_errors(answer.get("total", len(errors)), errors, args.lang, str(path))
                if not errors:
                    say(f"tsdx: {answer['code']}: {answer.get('message', '')}")
                return REFUSED
            for key in ("changed", "unchanged"):
                totals[key] += answer[key]
            totals["version"] = answer["version"]
            progress.advance(sum(_count(body).values()))
    if args.json:
        print_json({"store": batch.store, "items": batch.size, **totals})
    else:
        print(render("cli_catalog_done", args.lang, {"items": batch.size, **totals}))
    return OK


def _count(body: dict[str, Any]) -> dict[str, int]:
    counts = {key: len(body.get(key, [])) for key in ("warehouses", "cells", "products")}
    counts["delete"] = sum(len(ids) for ids in body.get("delete", {}).values())
    return counts


def _in_file(error: dict[str, Any], offsets: dict[str, int]) -> dict[str, Any]:
    """A server's error about an item of one call, with the item's position in the file."""
    kind, position = error.get("kind"), error.get("position")
    if kind is None or position is None:
        return error
    deleting = str(error.get("field", "")).startswith("delete.")
    offset = offsets.get(("delete:" if deleting else "") + kind, 0)
    return {**error, "position": position + offset}


def _print_errors(total: int, errors: list[dict[str, Any]], language: str, subject: str) -> None:
    say(f"tsdx: {subject}: {render('catalog_invalid', language, {'total': total})}")
    for error in rendered(errors[:SHOWN_ERRORS], language):
        say(f"  {error['message']}")
    if total > SHOWN_ERRORS:
        say("  " + render("cli_catalog_more_errors", language, {"more": total - SHOWN_ERRORS}))


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = commands.add_parser("catalog", help="the base's catalog (справочники)")
    actions = catalog.add_subparsers(dest="action", metavar="ACTION", required=True)
    upload = actions.add_parser(
        "upload",
        help="upload products, warehouses and cells from a file",
        description="Upload a catalog file (the native shape or a 1C JSON export) in calls "
        "of --batch items. Exit codes: 0 done, 2 bad options or file (nothing sent), "
        "3 refused (earlier calls stay applied; sending the file again is safe), "
        "4 server unreachable.",
    )
    upload.add_argument("file", metavar="FILE", help="the catalog file")
    upload.add_argument("--store", help="trade object (Торговый объект); overrides the file's")
    upload.add_argument(
        "--batch",
        type=_batch_size,
        default=DEFAULT_BATCH,
        help=f"items per call (default {DEFAULT_BATCH})",
    )
    upload.add_argument("--json", action="store_true", help="print the totals as JSON")
    add_server_options(upload, api_key=True)
    upload.set_defaults(run=lambda a: run_command(a, _upload))


def _batch_size(text: str) -> int:
    value = whole_number(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(said("must be from 1 to 10000"))
    return value
