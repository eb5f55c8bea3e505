"""``tsdx process list|show|import|export|enable|disable|delete``: business processes, through
the gateway's admin API.

Without ``--tenant`` a command works on the defaults every base starts with (the processes
shipped with tsdx); with ``--tenant T`` on what base ``T`` sees, its own processes over the
defaults (changing a default there gives the base its own copy). Exit codes as every client
command of ``tsdx``: 0 done, 2 wrong usage or an unreadable file (nothing sent), 3 refused by
the server (its code and message are printed), 4 the server could not be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from shared.i18n import render, text, word
from tools.cli.output import (
    OK,
    USAGE,
    CommandError,
    add_server_options,
    columns,
    print_json,
    print_table,
    run_command,
    say,
)
from tools.client import AdminClient

FORMATS = ("yaml", "json")


def _client(args: argparse.Namespace) -> AdminClient:
    token = args.admin_token or os.environ.get("TSDX_ADMIN_TOKEN")
    if not token:
        raise CommandError(USAGE, "cli_admin_token_missing")
    return AdminClient(args.url, token, language=args.lang)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CommandError(USAGE, "cli_file_not_found", subject=str(path)) from None
    except OSError as exc:
        raise CommandError(
            USAGE, "cli_file_unreadable", subject=str(path), reason=exc.strerror or str(exc)
        ) from None


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(
            USAGE, "cli_file_not_written", subject=str(path), reason=exc.strerror or str(exc)
        ) from None


def _media_type(path: Path) -> str:
    return "application/json" if path.suffix.lower() == ".json" else "application/yaml"


async def _list(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        processes = await client.processes(args.tenant)
    if args.json:
        print_json(processes)
    elif not processes:
        print(render("cli_no_processes", args.lang))
    else:
        print_table(
            columns(args.lang, "id", "enabled", "scope", "source_type", "terminal_type", "name"),
            [
                (
                    p["id"],
                    word("yes" if p["enabled"] else "no", args.lang),
                    word(p["scope"], args.lang),
                    p["process"]["source_type"],
                    p["process"]["terminal_type"],
                    p["name"],
                )
                for p in processes
            ],
        )
    return OK


async def _show(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        entry = await client.process(args.id, args.tenant)
    if args.json:
        print_json(entry)
    else:
        scope = word(entry["scope"], args.lang)
        enabled = word("enabled" if entry["enabled"] else "disabled", args.lang)
        print(text("cli.process.scope", args.lang, scope=scope, enabled=enabled))
        print(yaml.safe_dump(entry["process"], allow_unicode=True, sort_keys=False), end="")
    return OK


async def _import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    data = _read(path)
    async with _client(args) as client:
        answer = await client.import_processes(data, args.tenant, media_type=_media_type(path))
    if args.json:
        print_json(answer)
    else:
        names = ", ".join(answer["imported"])
        print(
            text("cli.process.imported", args.lang, path=path, count=answer["count"], names=names)
        )
    return OK


async def _export(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        exported = await client.export_processes(args.tenant, args.format)
    if args.output is None:
        sys.stdout.write(exported)
    else:
        _write(Path(args.output), exported)
        say(text("cli.process.exported", args.lang, path=args.output, count=exported.count("\n")))
    return OK


def _change(method: str) -> Any:
    async def run(args: argparse.Namespace) -> int:
        async with _client(args) as client:
            answer = await getattr(client, method)(args.id, args.tenant)
        if args.json:
            print_json(answer)
        elif "deleted" in answer:
            print(
                text(
                    "cli.process.changed",
                    args.lang,
                    id=answer["id"],
                    state=word("deleted", args.lang),
                )
            )
        else:
            state = word("enabled" if answer["enabled"] else "disabled", args.lang)
            print(text("cli.process.changed", args.lang, id=answer["id"], state=state))
        return OK

    return run


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    process = commands.add_parser(
        "process",
        help="business processes: list, show, import, export, enable, disable, delete",
        description="Business processes through the admin API. Without --tenant: the "
        "defaults every base starts with; with --tenant: what that base sees.",
    )
    actions = process.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="the processes, enabled or not")
    listing.set_defaults(run=lambda a: run_command(a, _list))
    show = actions.add_parser("show", help="one process with every setting (YAML)")
    show.add_argument("id", help="the process id, e.g. purchase-receipt")
    show.set_defaults(run=lambda a: run_command(a, _show))
    importing = actions.add_parser(
        "import", help="import a process file (YAML or JSON): all of it or nothing"
    )
    importing.add_argument("file", metavar="FILE", help="a file as written by export")
    importing.set_defaults(run=lambda a: run_command(a, _import))
    export = actions.add_parser("export", help="write the processes as a file")
    export.add_argument("--format", choices=FORMATS, default="yaml", help="default yaml")
    export.add_argument("-o", "--output", help="write to this file instead of the output")
    export.set_defaults(run=lambda a: run_command(a, _export))
    changes = []
    for name, method, help_text in (
        ("enable", "enable_process", "enable a process"),
        ("disable", "disable_process", "disable a process (uploads with it are refused)"),
        ("delete", "delete_process", "delete a process"),
    ):
        change = actions.add_parser(name, help=help_text)
        change.add_argument("id", help="the process id")
        change.set_defaults(run=lambda a, m=method: run_command(a, _change(m)))
        changes.append(change)

    for parser in (listing, show, importing, export, *changes):
        add_server_options(parser, api_key=False)
        parser.add_argument(
            "--admin-token", default=None, help="the operators' token (TSDX_ADMIN_TOKEN)"
        )
        parser.add_argument(
            "--tenant", default=None, help="the base; without it, the defaults of every base"
        )
        if parser is not export:
            parser.add_argument("--json", action="store_true", help="print the answer as JSON")
