"""``tsdx document show ID|NUMBER|PIN``: where a document is, and every step it took.

With the operators' admin token the query is matched in every base against the accounting id,
the number and the PIN of the device a copy went to; each document found is shown with its
timeline (``--tenant T`` keeps those of one base). Without it, with a base's API key (what a
1C integrator has), the query is the document's accounting id in that base
(``GET /api/v1/documents/{id}``). Exit codes as every client command: 0 shown, 2 wrong usage,
3 nothing found or refused by the server, 4 the server could not be reached.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from shared.i18n import render, text, word
from tools.cli.output import (
    OK,
    REFUSED,
    USAGE,
    CommandError,
    add_server_options,
    columns,
    moment,
    print_json,
    print_table,
    run_command,
    target_text,
)
from tools.client import AccountingClient, AdminClient, ApiError


def _credential(args: argparse.Namespace) -> tuple[str, str]:
    """Which way to look and with what: ("admin", token) or ("base", API key). What the command
    line gives wins over the environment, the admin token over the key within each."""
    key_given = args.api_key is not None and args.api_key != os.environ.get("TSDX_API_KEY")
    if args.admin_token:
        return "admin", args.admin_token
    if key_given:
        return "base", args.api_key
    if os.environ.get("TSDX_ADMIN_TOKEN"):
        return "admin", os.environ["TSDX_ADMIN_TOKEN"]
    if args.api_key:
        return "base", args.api_key
    raise CommandError(USAGE, "cli_document_credential_missing")


def who(step: dict[str, Any], language: str) -> str:
    """The device (PIN and name), the user or the target a step concerned."""
    device = step.get("device")
    if device:
        # A device the directory no longer holds is named by its id.
        return f"{device.get('pin') or device.get('id', '')} {device.get('name', '')}".strip()
    if step.get("user"):
        return str(step["user"])
    return target_text(step["target"], language) if step.get("target") else ""


def details(step: dict[str, Any], language: str) -> str:
    parts = []
    if "final" in step:
        parts.append(render("journey_final" if step["final"] else "journey_partial", language))
    if "lines" in step:
        parts.append(render("journey_lines", language, {"count": step["lines"]}))
    if "attempts" in step:
        parts.append(render("journey_attempts", language, {"count": step["attempts"]}))
    if "channel" in step:
        parts.append(word(str(step["channel"]), language))
    if "process" in step:
        parts.append(str(step["process"]))
    if "version" in step:
        parts.append(text("cli.journey.version", language, version=step["version"]))
    if "reason" in step:
        parts.append(word(str(step["reason"]), language, prefix="cli.reason."))
    if "mode" in step:
        parts.append(word(str(step["mode"]), language))
    if "code" in step:
        parts.append(f"{step['code']}: {render(step['code'], language, step.get('params'))}")
    return ", ".join(parts)


def print_journey(view: dict[str, Any], language: str) -> None:
    state = render(f"journey_state_{view['state']}", language)
    number = " " + text("cli.number", language, number=view["number"]) if view.get("number") else ""
    # The admin API names the base; the accounting API answers for the key's own base.
    base = f"{view['tenant']}  " if view.get("tenant") else ""
    print(f"{base}{view['document_id']}{number}  {view.get('accounting_type', '')}")
    print(f"{render('journey_state', language)}: {state}")
    print_table(
        columns(language, "time", "step", "service", "who", "details"),
        [
            (
                moment(s["at"], language),
                render(f"journey_step_{s['step']}", language),
                s["service"],
                who(s, language),
                details(s, language),
            )
            for s in view["timeline"]
        ],
    )


async def _show(args: argparse.Namespace) -> int:
    way, secret = _credential(args)
    if way == "admin":
        views = await _found_everywhere(args, secret)
    elif args.tenant:
        raise CommandError(USAGE, "cli_document_tenant_needs_admin")
    else:
        views = [await _found_in_the_base(args, secret)]
    if args.json:
        print_json(views)
        return OK
    for n, view in enumerate(views):
        if n:
            print()
        print_journey(view, args.lang)
    return OK


async def _found_everywhere(args: argparse.Namespace, token: str) -> list[dict[str, Any]]:
    """The journeys of the documents the query names in every base (the admin API)."""
    async with AdminClient(args.url, token, language=args.lang) as client:
        found = await client.find_documents(args.query)
        if args.tenant:
            found = [d for d in found if d["tenant"] == args.tenant]
        if not found:
            raise CommandError(REFUSED, "cli_document_not_found", query=args.query)
        return [await client.document_journey(d["tenant"], d["document_id"]) for d in found]


async def _found_in_the_base(args: argparse.Namespace, api_key: str) -> dict[str, Any]:
    """The journey of the base's document whose accounting id the query is (the API key's)."""
    async with AccountingClient(args.url, api_key, language=args.lang) as client:
        try:
            return await client.document(args.query)
        except ApiError as exc:
            if exc.status != 404:
                raise
            raise CommandError(REFUSED, "cli_document_not_in_base", query=args.query) from None


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    document = commands.add_parser(
        "document",
        help="where a document is: its state and every step it took",
        description="A document's journey: with the admin token found in every base by "
        "accounting id, number or device PIN; with a base's API key, by its accounting id.",
    )
    actions = document.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="the state and timeline of the documents found")
    show.add_argument("query", help="accounting id, number (0000-000123) or device PIN")
    show.add_argument("--tenant", default=None, help="only documents of this base")
    show.add_argument("--json", action="store_true", help="print the answer as JSON")
    show.add_argument("--admin-token", default=None, help="the operators' token (TSDX_ADMIN_TOKEN)")
    add_server_options(show, api_key=True)
    show.set_defaults(run=lambda a: run_command(a, _show))
