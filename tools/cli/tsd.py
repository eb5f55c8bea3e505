"""``tsdx tsd``: a barcode terminal simulated from the command line.

``pair`` joins a base with its connection code and keeps the device credential in a state
file (``~/.tsdx/tsd-<hardware id>.json``, or ``--state``); ``pin``, ``inbox`` and ``scan`` act
as that terminal; ``run`` starts several terminals at once that take and finish every
document they are sent. On the local network a terminal works as a user instead:
``lan-login`` opens a session (kept in ``~/.tsdx/lan-<base>-<login>.json``), ``lan-inbox``,
``lan-scan`` and ``lan-logout`` use it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from shared.contracts.documents import FactLine
from shared.i18n import text, word
from tools.cli.output import (
    FAILED,
    OK,
    URL_HELP,
    USAGE,
    CommandError,
    add_language_option,
    big_digits,
    columns,
    default_gateway_url,
    moment,
    print_json,
    print_table,
    run_command,
    say,
    target_text,
    transport_error,
)
from tools.cli.parse_errors import number, whole_number
from tools.client.api import ApiError, LanClient, TerminalClient

DEFAULT_MODEL = "EDA50"
DEFAULT_LAN_URL = "http://127.0.0.1:8081"


def gateway_url(args: argparse.Namespace) -> str:
    """``--url``, else TSDX_URL, else the local gateway; kept in ``args`` for messages."""
    args.url = args.url or default_gateway_url()
    return str(args.url)


def lan_url(args: argparse.Namespace) -> str:
    args.url = args.url or os.environ.get("TSDX_LAN_URL") or DEFAULT_LAN_URL
    return str(args.url)


LIVE_STATES = ("waiting", "downloaded", "in_progress")


# The state file ------------------------------------------------------------------------------


@dataclass
class TerminalState:
    """What a paired terminal remembers: where its server is and who it is there."""

    url: str
    tenant: str
    device_id: str
    pin: str
    mode: str
    hardware_id: str
    model: str
    credential: str


def home() -> Path:
    return Path(os.environ.get("TSDX_HOME", "~/.tsdx")).expanduser()


def state_path(hardware_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", hardware_id).strip("_") or "terminal"
    return home() / f"tsd-{safe}.json"


def save_state(state: TerminalState, path: Path) -> None:
    write_private(path, asdict(state))


def load_state(args: argparse.Namespace) -> tuple[TerminalState, Path]:
    path = chosen_state_path(args)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return TerminalState(**raw), path
    except FileNotFoundError:
        raise CommandError(USAGE, "cli_tsd_not_paired", subject=str(path)) from None
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(USAGE, "cli_tsd_state_invalid", subject=str(path), reason=exc) from None


def chosen_state_path(args: argparse.Namespace) -> Path:
    """``--state``, else the hardware id's file, else the terminal paired last."""
    if args.state is not None:
        return Path(args.state)
    if args.hardware_id:
        return state_path(args.hardware_id)
    return newest_state("tsd-*.json", "cli_tsd_not_paired")


def newest_state(pattern: str, missing: str) -> Path:
    kept = sorted(home().glob(pattern), key=lambda p: p.stat().st_mtime)
    if not kept:
        raise CommandError(USAGE, missing, subject=str(home()))
    return kept[-1]


def write_private(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file holds a credential: readable by its owner only, from the first byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False, indent=2)


def terminal_for(args: argparse.Namespace, state: TerminalState) -> TerminalClient:
    args.url = args.url or state.url
    return TerminalClient(args.url, state.credential, language=args.lang)


# Commands ------------------------------------------------------------------------------------


async def _pair(args: argparse.Namespace) -> int:
    hardware_id = args.hardware_id or f"@TSDX-SIM-{uuid.uuid4().hex[:8].upper()}"
    url = gateway_url(args)
    async with TerminalClient(url, language=args.lang) as terminal:
        paired = await terminal.pair(
            args.code, hardware_id, args.model, args.name or args.model, args.mode
        )
    state = TerminalState(
        url=url,
        tenant=paired["tenant"],
        device_id=paired["device_id"],
        pin=paired["pin"],
        mode=paired["mode"],
        hardware_id=hardware_id,
        model=args.model,
        credential=paired["credential"],
    )
    path = Path(args.state) if args.state else state_path(hardware_id)
    save_state(state, path)
    if args.json:
        print_json({k: v for k, v in asdict(state).items() if k != "credential"})
        return OK
    mode = word(state.mode, args.lang)
    print(
        text(
            "cli.tsd.paired",
            args.lang,
            model=args.model,
            hardware_id=hardware_id,
            tenant=state.tenant,
            mode=mode,
        )
    )
    print(side_menu(state.pin, args.lang))
    print(text("cli.tsd.state_file", args.lang, path=path))
    return OK


def side_menu(pin: str, language: str) -> str:
    return f"{text('cli.tsd.side_menu', language, pin=pin)}\n\n{big_digits(pin)}\n"


async def _pin(args: argparse.Namespace) -> int:
    state, path = load_state(args)
    async with terminal_for(args, state) as terminal:
        me = await terminal.me()
    if me["pin"] != state.pin:  # the server's word wins; remember it
        state.pin = me["pin"]
        save_state(state, path)
    if args.json:
        print_json(me)
    else:
        print(side_menu(me["pin"], args.lang))
    return OK


async def _inbox(args: argparse.Namespace) -> int:
    state, _ = load_state(args)
    async with terminal_for(args, state) as terminal:
        inbox = await terminal.inbox(wait=args.wait)
    if args.json:
        print_json(inbox)
        return OK
    documents = inbox["documents"]
    if documents:
        print_table(
            columns(args.lang, "delivery", "document", "lines", "state"),
            [
                (
                    d["delivery_id"],
                    document_title(d, args.lang),
                    d["lines"],
                    word(d["state"], args.lang),
                )
                for d in documents
            ],
        )
    else:
        say(text("cli.tsd.no_documents", args.lang, pin=state.pin))
    for gone in inbox["withdrawn"]:
        reason = word(gone["reason"], args.lang, prefix="cli.reason.")
        print(text("cli.tsd.withdrawn", args.lang, delivery=gone["delivery_id"], reason=reason))
    return OK


def document_title(summary: dict[str, Any], language: str) -> str:
    kind = summary.get("terminal_type") or summary.get("accounting_type", "")
    number = summary.get("number") or summary.get("document_id")
    title = f"{kind} {text('cli.number', language, number=number)}"
    if not summary.get("date"):
        return title
    date = moment(summary["date"], language, date_only=True)
    return text("cli.tsd.document_dated", language, title=title, date=date)


def planned_facts(document: dict[str, Any], *, over_plan: bool = False) -> list[FactLine]:
    """Fact lines as a careful storekeeper scans them: every planned quantity, exactly
    (``over_plan``: the first line one more, to try quantity control)."""
    facts = []
    for line in document["lines"]:
        barcodes = line.get("barcodes") or []
        facts.append(
            FactLine(
                line_no=line["line_no"],
                product_id=line["product_id"],
                barcode=barcodes[0] if barcodes else "",
                quantity=Decimal(str(line.get("planned_qty", "0"))),
            )
        )
    if over_plan and facts:
        facts[0] = facts[0].model_copy(update={"quantity": facts[0].quantity + 1})
    return facts


def as_json(facts: list[FactLine]) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in facts]


async def finish(
    terminal: TerminalClient,
    delivery_id: str,
    language: str,
    *,
    over_plan: bool = False,
    partial: bool = False,
    result_id: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Download, confirm, scan and send the result of one document; what was done, in words.
    ``result_id`` names the final result, so that sending it again is the same result."""
    downloaded = await terminal.download(delivery_id)
    done = []
    if downloaded["state"] == "waiting":
        await terminal.acknowledge(delivery_id)
        done.append(text("cli.tsd.downloaded", language))
    facts = planned_facts(downloaded["document"], over_plan=over_plan)
    if partial and len(facts) > 0:
        half = facts[: (len(facts) + 1) // 2]
        await terminal.send_result(delivery_id, uuid.uuid4().hex, as_json(half), final=False)
        done.append(partial_sent(half, facts, language))
    final_id = result_id or uuid.uuid4().hex
    await terminal.send_result(delivery_id, final_id, as_json(facts), final=True)
    final = "cli.tsd.final_sent_over" if over_plan else "cli.tsd.final_sent"
    done.append(text(final, language, total=len(facts)))
    return downloaded, done


def partial_sent(half: list[FactLine], facts: list[FactLine], language: str) -> str:
    return text("cli.tsd.partial_sent", language, sent=len(half), total=len(facts))


async def _scan(args: argparse.Namespace) -> int:
    state, _ = load_state(args)
    async with terminal_for(args, state) as terminal:
        delivery_id = args.delivery or await first_live_delivery(terminal, args.wait)
        downloaded, done = await finish(
            terminal, delivery_id, args.lang, over_plan=args.over_plan, partial=args.partial
        )
    print(f"{document_title(downloaded, args.lang)} [{delivery_id}]")
    for step in done:
        print(f"  {step}")
    return OK


async def first_live_delivery(terminal: TerminalClient, wait: float) -> str:
    inbox = await terminal.inbox(wait=wait)
    for item in inbox["documents"]:
        if item["state"] in LIVE_STATES:
            return str(item["delivery_id"])
    raise CommandError(FAILED, "cli_tsd_inbox_empty")


# Several terminals at once -------------------------------------------------------------------


@dataclass
class Fleet:
    """Simulated terminals sharing one count of finished documents and one stop signal."""

    goal: int | None
    finished: int = 0

    def __post_init__(self) -> None:
        self.stop = asyncio.Event()

    def count(self) -> None:
        self.finished += 1
        if self.goal is not None and self.finished >= self.goal:
            self.stop.set()


# How long a simulated terminal waits before it asks again a server that did not answer: a
# little longer each time, as the terminal app does.
RETRY_PAUSES = (0.5, 1.0, 2.0, 5.0)


def server_lost(exc: BaseException) -> bool:
    """Worth asking again, by the terminal app's rule (terminal_app/web/js/api.js): no answer,
    or an answer that the server cannot work now (5xx, 429, 408)."""
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ApiError) and (exc.status >= 500 or exc.status in (408, 429))


async def work(
    terminal: TerminalClient, pin: str, fleet: Fleet, poll: float, language: str
) -> None:
    """Take every document sent to this terminal and finish it, until the fleet stops. A
    server that does not answer (restarted, its link lost) is asked again, as the terminal
    app does."""
    shift = _Shift(terminal, pin, fleet, poll, language)
    failures = 0
    while not fleet.stop.is_set():
        try:
            await shift.one_poll()
        except Exception as exc:
            if not server_lost(exc):
                raise
            if failures == 0:
                lost = transport_error(exc)
                say(text("cli.tsd.run_lost", language, pin=pin, transport_error=lost))
            await asyncio.sleep(RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)])
            failures += 1
            continue
        if failures:
            say(text("cli.tsd.run_back", language, pin=pin))
            failures = 0


class _Shift:
    """One simulated terminal's work: what it has tried, and the final results whose answer
    was lost (taken by the server or not: it asks once the server answers again)."""

    def __init__(
        self, terminal: TerminalClient, pin: str, fleet: Fleet, poll: float, language: str
    ) -> None:
        self.terminal, self.pin, self.fleet = terminal, pin, fleet
        self.poll, self.language = poll, language
        self.tried: set[str] = set()
        self.known = 0
        # Each copy's final result keeps its id from the first send: sent again, it is the
        # same result, which the gateway keeps once.
        self.result_ids: dict[str, str] = {}
        self.unsure: dict[str, dict[str, Any]] = {}

    async def one_poll(self) -> None:
        """One poll of the inbox and the work it brings."""
        inbox = await self.terminal.inbox(wait=self.poll, known=self.known)
        for gone in inbox["withdrawn"]:
            await self.terminal.acknowledge(gone["delivery_id"])
        live = {d["delivery_id"] for d in inbox["documents"] if d["state"] in LIVE_STATES}
        for delivery_id, item in list(self.unsure.items()):
            if delivery_id in live:
                self.tried.discard(delivery_id)  # still open: finished again below, same id
            elif await self._received(delivery_id):
                self._finished(item)
            del self.unsure[delivery_id]
        for item in inbox["documents"]:
            # One attempt per copy: a result refused (e.g. over plan) is the operator's to see.
            delivery_id = item["delivery_id"]
            if delivery_id not in live or delivery_id in self.tried:
                continue
            self.tried.add(delivery_id)
            result_id = self.result_ids.setdefault(delivery_id, uuid.uuid4().hex)
            try:
                await finish(self.terminal, delivery_id, self.language, result_id=result_id)
            except Exception as exc:
                if server_lost(exc):
                    self.unsure[delivery_id] = item  # asked about once the server answers
                raise
            self._finished(item)
        self.known = len([d for d in inbox["documents"] if d["delivery_id"] not in self.tried])

    async def _received(self, delivery_id: str) -> bool:
        """Whether the server took the final result whose answer was lost."""
        try:
            answer = await self.terminal.result_status(delivery_id, self.result_ids[delivery_id])
        except ApiError as exc:
            if server_lost(exc):
                raise
            return False  # not taken, and the copy no longer open: withdrawn meanwhile
        return answer.get("state") == "received"

    def _finished(self, item: dict[str, Any]) -> None:
        title = document_title(item, self.language)
        lines = item["lines"]
        print(text("cli.tsd.run_finished", self.language, pin=self.pin, title=title, lines=lines))
        self.fleet.count()


async def _run(args: argparse.Namespace) -> int:
    url = gateway_url(args)
    prefix = args.prefix or uuid.uuid4().hex[:6].upper()
    fleet = Fleet(goal=args.documents)
    terminals = [TerminalClient(url, language=args.lang) for _ in range(args.count)]
    try:
        pins = []
        for number, terminal in enumerate(terminals, start=1):
            hardware_id = f"@TSDX-SIM-{prefix}-{number:02d}"
            paired = await terminal.pair(args.code, hardware_id, args.model, args.model, args.mode)
            pins.append(paired["pin"])
            print(
                text(
                    "cli.tsd.run_terminal",
                    args.lang,
                    number=number,
                    pin=paired["pin"],
                    model=args.model,
                    hardware_id=hardware_id,
                )
            )
        say(text("cli.tsd.run_waiting", args.lang, count=len(terminals)))
        deadline = time.monotonic() + args.duration if args.duration else None
        workers = [
            asyncio.create_task(work(t, pin, fleet, args.poll, args.lang))
            for t, pin in zip(terminals, pins, strict=True)
        ]
        stopped = asyncio.create_task(fleet.stop.wait())
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        done, _ = await asyncio.wait(
            [*workers, stopped], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for task in [*workers, stopped]:
            task.cancel()
        await asyncio.gather(*workers, stopped, return_exceptions=True)
        for task in done:  # a terminal that failed says why
            error = None if task is stopped or task.cancelled() else task.exception()
            if error is not None:
                raise error
    finally:
        for terminal in terminals:
            await terminal.close()
    print(text("cli.tsd.run_total", args.lang, finished=fleet.finished, terminals=len(terminals)))
    if fleet.goal is not None and fleet.finished < fleet.goal:
        return FAILED
    return OK


# A terminal on the local network, logged in as a user ---------------------------------------


@dataclass
class LanSession:
    url: str
    tenant: str
    login: str
    token: str
    expires_at: str


def lan_state_path(tenant: str, login: str) -> Path:
    safe = re.sub(r"[^\w.-]+", "_", f"{tenant}-{login}").strip("_")
    return home() / f"lan-{safe}.json"


def load_lan_session(args: argparse.Namespace) -> LanSession:
    path = Path(args.state) if args.state else newest_state("lan-*.json", "cli_lan_not_logged_in")
    try:
        return LanSession(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise CommandError(USAGE, "cli_lan_not_logged_in", subject=str(path)) from None
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(USAGE, "cli_tsd_state_invalid", subject=str(path), reason=exc) from None


def lan_client(args: argparse.Namespace, session: LanSession) -> LanClient:
    args.url = args.url or session.url
    return LanClient(args.url, session.token, language=args.lang)


async def _lan_login(args: argparse.Namespace) -> int:
    url = lan_url(args)
    async with LanClient(url, language=args.lang) as user:
        opened = await user.login(
            args.tenant, args.login, args.password, barcode=args.barcode, device_id=args.device
        )
    session = LanSession(
        url, opened["tenant"], opened["login"], opened["token"], opened["expires_at"]
    )
    path = Path(args.state) if args.state else lan_state_path(session.tenant, session.login)
    write_private(path, asdict(session))
    groups = ", ".join(opened["groups"]) or "—"
    name = opened["name"] or opened["login"]
    print(text("cli.tsd.logged_in", args.lang, name=name, login=opened["login"], groups=groups))
    print(text("cli.tsd.state_file", args.lang, path=path))
    return OK


async def _lan_inbox(args: argparse.Namespace) -> int:
    session = load_lan_session(args)
    async with lan_client(args, session) as user:
        documents = await user.documents()
    if args.json:
        print_json(documents)
    elif not documents:
        say(text("cli.tsd.lan_no_documents", args.lang, login=session.login))
    else:
        print_table(
            columns(args.lang, "delivery", "document", "for", "lines", "state", "taken_by"),
            [
                (
                    d["delivery_id"],
                    document_title(d, args.lang),
                    target_text(d["assigned_to"], args.lang),
                    d["lines"],
                    word(d["state"], args.lang),
                    ", ".join(d["taken_by"]) or "—",
                )
                for d in documents
            ],
        )
    return OK


async def _lan_scan(args: argparse.Namespace) -> int:
    session = load_lan_session(args)
    async with lan_client(args, session) as user:
        delivery_id = args.delivery
        if delivery_id is None:
            free = [d for d in await user.documents() if not d["finished_by_me"]]
            if not free:
                raise CommandError(FAILED, "cli_tsd_inbox_empty")
            delivery_id = free[0]["delivery_id"]
        await user.take(delivery_id)
        shown = await user.document(delivery_id)
        facts = planned_facts(shown["document"], over_plan=args.over_plan)
        steps = [text("cli.tsd.taken_by", args.lang, login=session.login)]
        if args.partial and facts:
            half = facts[: (len(facts) + 1) // 2]
            await user.send_result(delivery_id, uuid.uuid4().hex, as_json(half), final=False)
            steps.append(partial_sent(half, facts, args.lang))
        answer = await user.send_result(delivery_id, uuid.uuid4().hex, as_json(facts), final=True)
        status = word(answer.get("status", "received"), args.lang)
        steps.append(text("cli.tsd.final_sent_status", args.lang, total=len(facts), status=status))
    print(f"{document_title(shown, args.lang)} [{delivery_id}]")
    for step in steps:
        print(f"  {step}")
    return OK


async def _lan_logout(args: argparse.Namespace) -> int:
    session = load_lan_session(args)
    async with lan_client(args, session) as user:
        await user.logout()
    print(text("cli.tsd.logged_out", args.lang, login=session.login))
    return OK


def _register_lan(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def session_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--state", help="the session file (default: the newest login)")
        parser.add_argument("--url", help="the LAN API (default: the one logged in to)")
        add_language_option(parser)

    login = actions.add_parser("lan-login", help="log in to the LAN base as a user")
    login.add_argument("--tenant", required=True, help="the base")
    login.add_argument("--login", help="the user's login")
    login.add_argument("--password", help="the user's password")
    login.add_argument("--barcode", help="the user's badge barcode instead of login and password")
    login.add_argument("--device", help="the terminal's device id, if it is paired")
    login.add_argument("--state", help="where to keep the session (default ~/.tsdx/lan-T-L.json)")
    login.add_argument("--url", help=f"the LAN API (TSDX_LAN_URL; default {DEFAULT_LAN_URL})")
    add_language_option(login)
    login.set_defaults(run=lambda a: run_command(a, _lan_login))

    inbox = actions.add_parser("lan-inbox", help="documents this user may work on")
    session_options(inbox)
    inbox.add_argument("--json", action="store_true", help="print JSON")
    inbox.set_defaults(run=lambda a: run_command(a, _lan_inbox))

    scan = actions.add_parser("lan-scan", help="take a LAN document, scan it (fact = plan), send")
    scan.add_argument("delivery", nargs="?", help="delivery id (default: the first one free)")
    scan.add_argument("--over-plan", action="store_true", help="count line 1 one over plan")
    scan.add_argument("--partial", action="store_true", help="send a partial result first")
    session_options(scan)
    scan.set_defaults(run=lambda a: run_command(a, _lan_scan))

    logout = actions.add_parser("lan-logout", help="end the user's session")
    session_options(logout)
    logout.set_defaults(run=lambda a: run_command(a, _lan_logout))


# Registration --------------------------------------------------------------------------------


def _terminal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", help="the terminal's state file (default: the one paired last)")
    parser.add_argument("--hardware-id", help="pick the state file of this terminal")
    parser.add_argument("--url", help="the gateway (default: the one the terminal paired with)")
    add_language_option(parser)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tsd = commands.add_parser("tsd", help="a simulated barcode terminal")
    actions = tsd.add_subparsers(dest="action", metavar="ACTION", required=True)

    pair = actions.add_parser("pair", help="join a base with its connection code; shows the PIN")
    pair.add_argument("--code", required=True, help="the base's connection code")
    pair.add_argument("--hardware-id", help="e.g. @HONEYWELL-EDA50-V-16204B17A7 (default: new)")
    pair.add_argument("--model", default=DEFAULT_MODEL, help=f"(default {DEFAULT_MODEL})")
    pair.add_argument("--name", help="(default: the model)")
    pair.add_argument("--mode", choices=("online", "offline"), default="online")
    pair.add_argument("--state", help="where to keep the credential (default ~/.tsdx/tsd-HW.json)")
    pair.add_argument("--url", help=URL_HELP)
    pair.add_argument("--json", action="store_true", help="print JSON (without the credential)")
    add_language_option(pair)
    pair.set_defaults(run=lambda a: run_command(a, _pair))

    pin = actions.add_parser("pin", help="the PIN as the terminal's side menu shows it")
    _terminal_options(pin)
    pin.add_argument("--json", action="store_true", help="print JSON")
    pin.set_defaults(run=lambda a: run_command(a, _pin))

    inbox = actions.add_parser("inbox", help="documents waiting for this terminal")
    _terminal_options(inbox)
    inbox.add_argument("--wait", type=number, default=0, help="seconds to wait for news")
    inbox.add_argument("--json", action="store_true", help="print JSON")
    inbox.set_defaults(run=lambda a: run_command(a, _inbox))

    scan = actions.add_parser("scan", help="scan a document (fact = plan) and send the result")
    scan.add_argument("delivery", nargs="?", help="delivery id (default: the first in the inbox)")
    scan.add_argument("--over-plan", action="store_true", help="count line 1 one over plan")
    scan.add_argument("--partial", action="store_true", help="send a partial result first")
    scan.add_argument("--wait", type=number, default=0, help="seconds to wait for a document")
    _terminal_options(scan)
    scan.set_defaults(run=lambda a: run_command(a, _scan))

    run = actions.add_parser("run", help="several terminals finishing every document they get")
    run.add_argument("--count", type=whole_number, default=3, help="how many terminals (default 3)")
    run.add_argument("--code", required=True, help="the base's connection code")
    run.add_argument("--mode", choices=("online", "offline"), default="online")
    run.add_argument("--model", default=DEFAULT_MODEL)
    run.add_argument("--prefix", help="hardware ids are @TSDX-SIM-PREFIX-01… (default: new)")
    run.add_argument(
        "--documents", type=whole_number, help="stop after finishing this many (exit 1 if not)"
    )
    run.add_argument("--duration", type=number, help="stop after this many seconds")
    run.add_argument("--poll", type=number, default=10, help="long-poll seconds (default 10)")
    run.add_argument("--url", help=URL_HELP)
    add_language_option(run)
    run.set_defaults(run=lambda a: run_command(a, _run))

    _register_lan(actions)
