"""The accounting side from a terminal: ``tsdx upload``, ``tsdx upload-status``,
``tsdx devices`` and ``tsdx results list|get|loaded``, for operators and scripts.

Every input file is read and checked before anything is sent, so a bad file in a batch
uploads nothing. Each file is one upload request (all-or-nothing on the server); with
``--request-id R`` the files get ``R`` (one file) or ``R-1``, ``R-2``… so running the same
command again returns the same answers and never delivers twice.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from shared.contracts.documents import Document, Target
from shared.contracts.uploads import UploadRequested
from shared.errors import describe
from shared.i18n import render, text, word
from shared.jsonexact import NotJSON, loads_exact
from shared.onec import OneCImportError, looks_like_1c_export, read_1c_csv, read_1c_json
from tools.cli.output import (
    OK,
    PENDING,
    REFUSED,
    UNREACHABLE,
    USAGE,
    CommandError,
    Progress,
    add_server_options,
    columns,
    exit_code_of,
    moment,
    print_json,
    print_table,
    refusal_line,
    require_api_key,
    run_command,
    target_text,
    unreachable,
)
from tools.cli.parse_errors import number, whole_number
from tools.client import AccountingClient, ApiError

FORMATS = ("json", "1c-json", "csv")
# Below this many files the answers alone say enough; above it a progress bar helps.
PROGRESS_FROM_FILES = 5


# Reading input files -------------------------------------------------------------------------


def read_documents(
    path: Path,
    fmt: str = "json",
    *,
    accounting_type: str | None = None,
    group_by: str | None = None,
    language: str = "ru",
) -> list[Document]:
    """The documents in one file, or :class:`CommandError` (exit 2) saying what is wrong."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(USAGE, "cli_file_not_found", subject=str(path)) from None
    except OSError as exc:
        raise CommandError(
            USAGE, "cli_file_unreadable", subject=str(path), reason=exc.strerror or str(exc)
        ) from None
    try:
        if fmt == "1c-json":
            documents = read_1c_json(data, accounting_type=accounting_type)
        elif fmt == "csv":
            if not accounting_type:
                raise CommandError(USAGE, "cli_csv_needs_type", subject=str(path))
            documents = read_1c_csv(data, accounting_type=accounting_type, group_by=group_by)
        else:
            documents = _native_documents(path, data, language)
    except OneCImportError as exc:
        raise CommandError(USAGE, exc.code, subject=str(path), **exc.params) from None
    if not documents:
        raise CommandError(USAGE, "cli_no_documents", subject=str(path))
    return documents


def _native_documents(path: Path, data: bytes, language: str) -> list[Document]:
    """tsdx's own JSON: a document, a list of documents, or ``{"documents": [...]}``."""
    try:
        parsed = loads_exact(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CommandError(
            USAGE, "cli_file_not_utf8", subject=str(path), position=exc.start
        ) from None
    except NotJSON as exc:
        raise CommandError(
            USAGE, "cli_file_not_json", subject=str(path), json_error=str(exc)
        ) from None
    if looks_like_1c_export(parsed):
        raise CommandError(USAGE, "cli_looks_like_1c", subject=str(path))
    if isinstance(parsed, dict) and "documents" in parsed:
        parsed = parsed["documents"]
    items = parsed if isinstance(parsed, list) else [parsed]
    documents = []
    for position, item in enumerate(items, start=1):
        try:
            documents.append(Document.model_validate(item))
        except ValidationError as exc:
            raise CommandError(
                USAGE,
                "cli_bad_document",
                subject=str(path),
                document=position,
                details=describe(exc, language, root=text("cli.whole_document", language)),
            ) from None
    return documents


# Upload --------------------------------------------------------------------------------------


def target_of(args: argparse.Namespace) -> Target:
    if args.everyone:
        return Target(kind="everyone")
    if args.any_device:  # the process assigns to a device: the base's only available one
        return Target(kind="device")
    for kind in ("pin", "device", "group", "user"):
        value = getattr(args, kind)
        if value is not None:
            try:
                return Target(kind=kind, value=value)
            except ValidationError as exc:
                details = f"--{kind}: {describe(exc, args.lang)}"
                raise CommandError(USAGE, "cli_bad_upload", details=details) from None
    raise CommandError(USAGE, "cli_no_target")


def request_ids(count: int, given: str | None) -> list[str]:
    if given is None:
        return [uuid.uuid4().hex for _ in range(count)]
    if count == 1:
        return [given]
    return [f"{given}-{n}" for n in range(1, count + 1)]


@dataclass
class Outcome:
    """What became of one file: the server's answer, or why there is none."""

    file: str
    request: UploadRequested
    answer: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    exit_code: int = OK


def build_requests(args: argparse.Namespace) -> list[tuple[str, UploadRequested]]:
    """Every file read and every request checked, before anything is sent."""
    target = target_of(args)
    files = [Path(f) for f in args.files]
    batches = [
        read_documents(
            f, args.format, accounting_type=args.type, group_by=args.group_by, language=args.lang
        )
        for f in files
    ]
    requests = []
    for path, documents, request_id in zip(
        files, batches, request_ids(len(files), args.request_id), strict=True
    ):
        try:
            request = UploadRequested(
                request_id=request_id,
                process=args.process,
                channel="lan" if args.lan else "internet",
                target=target,
                documents=documents,
                recall=args.recall,
            )
        except ValidationError as exc:
            raise CommandError(
                USAGE,
                "cli_bad_upload",
                subject=str(path),
                details=describe(exc, args.lang, root=text("cli.whole_request", args.lang)),
            ) from None
        requests.append((str(path), request))
    return requests


async def _upload_all(args: argparse.Namespace) -> int:
    requests = build_requests(args)
    api_key = require_api_key(args)
    progress = (
        Progress(len(requests), text("cli.progress.files", args.lang))
        if len(requests) >= PROGRESS_FROM_FILES
        else None
    )
    outcomes = [Outcome(file, request) for file, request in requests]
    lost_link = asyncio.Event()
    slots = asyncio.Semaphore(max(1, args.parallel))
    async with AccountingClient(args.url, api_key, language=args.lang) as client:

        async def one(outcome: Outcome) -> None:
            async with slots:
                if lost_link.is_set():
                    outcome.error = render("cli_not_sent", args.lang)
                    outcome.exit_code = UNREACHABLE
                else:
                    await _upload_one(client, outcome, args)
                    if outcome.exit_code == UNREACHABLE:
                        lost_link.set()
            if progress is not None:
                progress.advance()

        await asyncio.gather(*(one(o) for o in outcomes))
    if args.json:
        print_json([{"file": o.file, "answer": o.answer, "error": o.error} for o in outcomes])
    else:
        for outcome in outcomes:
            print(outcome_line(outcome, args.lang))
    return worst(o.exit_code for o in outcomes)


async def _upload_one(client: AccountingClient, outcome: Outcome, args: argparse.Namespace) -> None:
    body = outcome.request.model_dump(mode="json")
    try:
        answer = await client.upload(body)
        deadline = time.monotonic() + args.wait
        while answer["status"] == "pending" and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # the status endpoint does not long-poll
            answer = await client.upload_status(outcome.request.request_id)
    except ApiError as exc:
        outcome.error = refusal_line(exc)
        outcome.exit_code = exit_code_of(exc)
        return
    except httpx.TransportError as exc:
        outcome.error = unreachable(args.url, exc).message(args.lang)
        outcome.exit_code = UNREACHABLE
        return
    outcome.answer = answer
    outcome.exit_code = {"accepted": OK, "pending": PENDING}.get(answer["status"], REFUSED)


def outcome_line(outcome: Outcome, language: str) -> str:
    if outcome.error is not None:
        return f"{outcome.file}: {outcome.error}"
    answer = outcome.answer
    request_id = answer.get("request_id", outcome.request.request_id)
    if answer["status"] == "refused":
        return refused_line(outcome.file, answer, language)
    if answer["status"] == "pending":
        return f"{outcome.file}: " + render(
            "cli_upload_pending", language, {"request_id": request_id}
        )
    numbers = {d.header.id: d.header.number or d.header.id for d in outcome.request.documents}
    lines = [text("cli.upload.accepted", language, file=outcome.file, request_id=request_id)]
    for delivery in answer.get("deliveries", []):
        whom = delivery_target(delivery, language)
        number = numbers.get(delivery["document_id"], delivery["document_id"])
        shown = text("cli.upload.delivery", language, delivery=delivery["delivery_id"])
        lines.append(f"  {number} → {whom}  [{shown}]")
    return "\n".join(lines)


def delivery_target(delivery: dict[str, Any], language: str) -> str:
    if delivery.get("device_pin"):
        return f"{delivery['device_pin']} {delivery.get('device_name') or ''}".rstrip()
    return target_text(delivery.get("target"), language)


def refused_line(subject: str, answer: dict[str, Any], language: str) -> str:
    code, message = answer.get("code"), answer.get("message", "")
    return text("cli.upload.refused", language, file=subject, code=code, message=message)


def worst(codes: Any) -> int:
    """The exit code of a batch: the most serious outcome of its files."""
    order = (UNREACHABLE, REFUSED, PENDING)
    seen = set(codes)
    return next((code for code in order if code in seen), OK)


async def _upload_status(args: argparse.Namespace) -> int:
    async with AccountingClient(args.url, require_api_key(args), language=args.lang) as client:
        answer = await client.upload_status(args.request_id)
    if args.json:
        print_json(answer)
    elif answer["status"] == "refused":
        print(refused_line(args.request_id, answer, args.lang))
    else:
        status = word(answer["status"], args.lang)
        print(text("cli.upload.status", args.lang, request_id=args.request_id, status=status))
        for delivery in answer.get("deliveries", []):
            print(f"  {delivery['document_id']} → {delivery_target(delivery, args.lang)}")
    return {"accepted": OK, "pending": PENDING}.get(answer["status"], REFUSED)


# Devices and results -------------------------------------------------------------------------


async def _devices(args: argparse.Namespace) -> int:
    async with AccountingClient(args.url, require_api_key(args), language=args.lang) as client:
        devices = await client.devices()
    if args.json:
        print_json(devices)
    elif not devices:
        print(render("cli_no_devices", args.lang))
    else:
        print_table(
            columns(args.lang, "device", "mode", "last_seen", "id"),
            [
                (
                    d["title"],
                    word(d["mode"], args.lang),
                    moment(d.get("last_seen"), args.lang),
                    d["device_id"],
                )
                for d in devices
            ],
        )
    return OK


async def _results_list(args: argparse.Namespace) -> int:
    async with AccountingClient(args.url, require_api_key(args), language=args.lang) as client:
        results = await client.results()
    if args.json:
        print_json(results)
    elif not results:
        print(render("cli_no_results", args.lang))
    else:
        print_table(
            columns(args.lang, "document", "process", "result_type", "mode", "state", "completed"),
            [
                (
                    r["document_id"],
                    r["process"],
                    r["result_type"],
                    word(r["mode"], args.lang),
                    word(r["state"], args.lang),
                    moment(r["completed_at"], args.lang),
                )
                for r in results
            ],
        )
    return OK


async def _results_get(args: argparse.Namespace) -> int:
    async with AccountingClient(args.url, require_api_key(args), language=args.lang) as client:
        result = await client.result(args.document)
    if args.json:
        print_json(result)
        return OK
    body = result["result"]
    header = body["header"]
    kind = result["result_type"] or header["accounting_type"]
    print(f"{kind} {text('cli.number', args.lang, number=header['number'])}")
    language = args.lang
    print(text("cli.result.document", language, value=result["document_id"]))
    mode, state = word(result["mode"], language), word(result["state"], language)
    print(text("cli.result.process", language, process=result["process"], mode=mode, state=state))
    print(text("cli.result.completed", language, value=moment(result["completed_at"], language)))
    print_table(
        columns(language, "line", "product", "barcode", "quantity", "user"),
        [
            (
                f.get("line_no") or "—",
                f["product_id"],
                f.get("barcode", ""),
                f["quantity"],
                f.get("user"),
            )
            for f in body["lines"]
        ],
    )
    return OK


async def _results_loaded(args: argparse.Namespace) -> int:
    async with AccountingClient(args.url, require_api_key(args), language=args.lang) as client:
        answer = await client.mark_loaded(args.document)
    print(f"{answer['document_id']}: {word(answer['state'], args.lang)}")
    return OK


# Registration --------------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _register_upload(commands)
    status = commands.add_parser("upload-status", help="the answer to an earlier upload")
    status.add_argument("request_id", help="the upload's request id")
    add_server_options(status, api_key=True)
    status.add_argument("--json", action="store_true", help="print the server's answer as JSON")
    status.set_defaults(run=lambda a: run_command(a, _upload_status))

    devices = commands.add_parser("devices", help="this base's device list (to pick a terminal)")
    add_server_options(devices, api_key=True)
    devices.add_argument("--json", action="store_true", help="print JSON")
    devices.set_defaults(run=lambda a: run_command(a, _devices))

    results = commands.add_parser("results", help="finished documents coming back from terminals")
    actions = results.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="completed documents not yet loaded")
    listing.set_defaults(run=lambda a: run_command(a, _results_list))
    one = actions.add_parser("get", help="one completed document with its fact lines")
    one.add_argument("document", help="the accounting document's id")
    one.set_defaults(run=lambda a: run_command(a, _results_get))
    loaded = actions.add_parser("loaded", help="confirm a document was loaded (idempotent)")
    loaded.add_argument("document", help="the accounting document's id")
    loaded.set_defaults(run=lambda a: run_command(a, _results_loaded))
    for parser in (listing, one, loaded):
        add_server_options(parser, api_key=True)
        parser.add_argument("--json", action="store_true", help="print JSON")


def _register_upload(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    upload = commands.add_parser(
        "upload",
        help="upload documents to terminals",
        description="Upload documents to terminals: one request per file. Exit codes: "
        "0 accepted, 2 bad options or input file (nothing sent), 3 refused, "
        "4 server unreachable, 5 accepted but not decided yet.",
    )
    upload.add_argument("files", nargs="+", metavar="FILE", help="documents to upload")
    whom = upload.add_mutually_exclusive_group(required=True)
    whom.add_argument("--pin", help="the terminal's PIN, as its side menu shows it")
    whom.add_argument("--device", help="a device id from `tsdx devices`")
    whom.add_argument(
        "--any-device",
        action="store_true",
        help="no device named: the base's only available device (processes that assign to a "
        "specific device)",
    )
    whom.add_argument("--everyone", action="store_true", help="every user (LAN)")
    whom.add_argument("--group", help="a group of users (LAN)")
    whom.add_argument("--user", help="one user (LAN)")
    upload.add_argument("--lan", action="store_true", help="through the local network channel")
    upload.add_argument(
        "--process", required=True, help="business process id, e.g. purchase-receipt"
    )
    upload.add_argument("--request-id", help="idempotency key (several files: KEY-1, KEY-2…)")
    upload.add_argument(
        "--recall", action="store_true", help="withdraw a copy a terminal is working on"
    )
    upload.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        help="json: tsdx documents; 1c-json: a 1C JSON export; csv: a 1C CSV table",
    )
    upload.add_argument(
        "--type",
        help="the accounting document type, e.g. «Заказ поставщику» (required for csv)",
    )
    upload.add_argument("--group-by", help="csv: the document number column (several per file)")
    upload.add_argument(
        "--wait", type=number, default=0.0, help="seconds to keep asking while still pending"
    )
    upload.add_argument("--parallel", type=whole_number, default=4, help="files uploaded at once")
    upload.add_argument("--json", action="store_true", help="print the answers as JSON")
    add_server_options(upload, api_key=True)
    upload.set_defaults(run=lambda a: run_command(a, _upload_all))
