"""``tsdx demo``: the exchange told as a story, step by step, against a running stack.

A new base is created for every run, so the demo can be played again and again on the same
stack. Each step prints one numbered line with ✓ or ✗; the first ✗ ends the demo. The exit
code is 0 only if every step passed (a step the stack cannot offer is shown as skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from shared.cli.output import (
    DEFAULT_URL,
    FAILED,
    OK,
    UNREACHABLE,
    add_language_option,
    big_digits,
    run_command,
)
from shared.cli.tsd import as_json, finish, planned_facts
from shared.client.api import (
    AccountingClient,
    AdminClient,
    ApiError,
    LanClient,
    TerminalClient,
)
from shared.contracts.documents import Document, DocumentHeader, DocumentLine
from shared.i18n import render
from shared.settings import Settings

PROCESS = "purchase-receipt"
ORDER_TYPE = "Заказ поставщику"
ONLINE_TERMINAL = "@HONEYWELL-EDA50-V-16204B17A7"
OFFLINE_TERMINAL = "@HONEYWELL-EDA50-V-0F0F0F0F0F"
MODEL = "EDA50"
LAN_GROUP = "Кладовщики"
LAN_USERS = (("ivanov", "Иванов И."), ("petrova", "Петрова А."))
LAN_PASSWORD = "demo-password"

T = TypeVar("T")


class StepFailed(Exception):
    """The step's check did not hold; the message says what was seen instead."""


class Skipped(Exception):
    """The stack does not offer what the step shows; the message says why."""


def order(number: str) -> Document:
    """A purchase order as 1C uploads it (fractional kilograms included)."""
    goods = [
        ("milk-32", "Молоко 3,2% 1 л", "4600000000017", "шт", Decimal(12)),
        ("cheese-kg", "Сыр российский, весовой", "2200000000028", "кг", Decimal("2.5")),
        ("bread-wh", "Хлеб пшеничный 500 г", "4600000000031", "шт", Decimal(20)),
    ]
    return Document(
        header=DocumentHeader(
            accounting_type=ORDER_TYPE,
            id=str(uuid.uuid4()),
            number=number,
            date="2026-11-28T10:15:00",
            counterparty="ООО «Ромашка»",
            warehouse="Основной склад",
        ),
        lines=[
            DocumentLine(
                line_no=n,
                product_id=product,
                name=name,
                barcodes=[barcode],
                unit=unit,
                planned_qty=qty,
            )
            for n, (product, name, barcode, unit, qty) in enumerate(goods, start=1)
        ],
    )


async def wait_for(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    what: str,
    timeout: float = 20.0,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise StepFailed(f"{what}: not seen in {timeout:.0f} s")
        await asyncio.sleep(0.2)


def check(condition: bool, failure: str) -> None:
    if not condition:
        raise StepFailed(failure)


@dataclass
class Story:
    """What the steps share: the base, its clients and what happened so far."""

    url: str
    lan_url: str
    admin_token: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    tenant: dict[str, Any] = field(default_factory=dict)
    accounting: AccountingClient | None = None
    terminal: TerminalClient | None = None
    pin: str = ""
    device_id: str = ""
    sent: list[Document] = field(default_factory=list)

    @property
    def books(self) -> AccountingClient:
        assert self.accounting is not None, "the base is created first"
        return self.accounting

    @property
    def tsd(self) -> TerminalClient:
        assert self.terminal is not None, "the terminal pairs first"
        return self.terminal

    async def close(self) -> None:
        for client in (self.accounting, self.terminal):
            if client is not None:
                await client.close()

    def upload_body(
        self, target: dict[str, Any], document: Document, channel: str = "internet"
    ) -> dict[str, Any]:
        return {
            "request_id": uuid.uuid4().hex,
            "process": PROCESS,
            "channel": channel,
            "target": target,
            "documents": [document.model_dump(mode="json")],
        }

    # The steps, in the order they are told -------------------------------------------------

    async def create_base(self) -> str:
        async with AdminClient(self.url, self.admin_token) as admin:
            self.tenant = await admin.create_tenant(
                f"Демо-склад {self.suffix}", f"demo-{self.suffix}"
            )
        self.accounting = AccountingClient(self.url, self.tenant["api_key"], language="ru")
        return f"base {self.tenant['tenant']}, connection code {self.tenant['connection_code']}"

    async def pair_terminal(self) -> str:
        self.terminal = TerminalClient(self.url, language="ru")
        paired = await self.tsd.pair(
            self.tenant["connection_code"], ONLINE_TERMINAL, MODEL, MODEL, "online"
        )
        self.pin, self.device_id = paired["pin"], paired["device_id"]
        check(self.pin.isdigit(), f"the PIN is not digits: {self.pin!r}")
        shown = (await self.tsd.me())["pin"]
        check(shown == self.pin, f"the side menu shows {shown}, pairing gave {self.pin}")
        menu = "\n".join(f"        {row}" for row in big_digits(self.pin).splitlines())
        return f"{MODEL} {ONLINE_TERMINAL} shows PIN {self.pin}\n\n{menu}\n"

    async def upload_by_pin(self) -> str:
        document = order("DEMO-0001")
        answer = await self.books.upload(self.upload_body(_pin(self.pin), document))
        delivery = _accepted_delivery(answer)
        check(delivery.get("device_pin") == self.pin, f"delivered elsewhere: {delivery}")
        self.sent.append(document)
        return f"«{ORDER_TYPE}» № DEMO-0001 → {self.pin} {delivery.get('device_name', '')}"

    async def wrong_pin(self) -> str:
        wrong = _another_pin(self.pin)
        answer = await self.books.upload(self.upload_body(_pin(wrong), order("DEMO-0000")))
        expected = render("device_not_found_by_pin", "ru")
        check(answer.get("status") == "refused", f"not refused: {answer}")
        check(answer.get("code") == "device_not_found_by_pin", f"code {answer.get('code')}")
        check(answer.get("message") == expected, f"message {answer.get('message')!r}")
        inbox = await wait_for(self.tsd.inbox, lambda r: r["documents"], "the first document")
        numbers = [d["number"] for d in inbox["documents"]]
        check(numbers == ["DEMO-0001"], f"the terminal holds {numbers}")
        return f"PIN {wrong}: «{answer['message']}» (nothing sent)"

    async def device_list(self) -> str:
        title = f"{self.pin}  {MODEL}, ({ONLINE_TERMINAL})"
        devices = await self.books.devices()
        check(
            any(d["device_id"] == self.device_id and d["title"] == title for d in devices),
            f"«{title}» not in {[d['title'] for d in devices]}",
        )
        return f"the list offers «{title}»"

    async def upload_from_list(self) -> str:
        document = order("DEMO-0002")
        target = {"kind": "device", "value": self.device_id}
        answer = await self.books.upload(self.upload_body(target, document))
        delivery = _accepted_delivery(answer)
        check(delivery.get("device_pin") == self.pin, f"delivered elsewhere: {delivery}")
        self.sent.append(document)
        return f"«{ORDER_TYPE}» № DEMO-0002 → {self.pin}, picked from the list (no PIN typed)"

    async def scan_and_finish(self) -> str:
        inbox = await wait_for(
            self.tsd.inbox, lambda r: len(r["documents"]) >= 2, "two documents in the inbox"
        )
        numbers = []
        for position, item in enumerate(inbox["documents"]):
            await finish(self.tsd, item["delivery_id"], partial=position == 0)
            numbers.append(item["number"])
        return f"{', '.join(numbers)} scanned (fact = plan); partial, then final results sent"

    async def online_result(self) -> str:
        wanted = {d.header.id for d in self.sent}
        results = await wait_for(
            self.books.results,
            lambda rs: wanted <= {r["document_id"] for r in rs},
            "both results in GET /api/v1/results",
        )
        for summary in results:
            check(summary["mode"] == "online", f"mode {summary['mode']}")
        first = self.sent[0]
        got = await self.books.result(first.header.id)
        facts = {f["line_no"]: Decimal(f["quantity"]) for f in got["result"]["lines"]}
        planned = {line.line_no: line.planned_qty for line in first.lines}
        check(facts == planned, f"facts {facts} differ from the plan {planned}")
        return (
            f"{len(wanted)} results in GET /api/v1/results as «{got['result_type']}», fact = plan"
        )

    async def offline_waits(self) -> str:
        async with TerminalClient(self.url, language="ru") as offline:
            paired = await offline.pair(
                self.tenant["connection_code"], OFFLINE_TERMINAL, MODEL, MODEL, "offline"
            )
            document = order("DEMO-0003")
            answer = await self.books.upload(self.upload_body(_pin(paired["pin"]), document))
            _accepted_delivery(answer)
            inbox = await wait_for(offline.inbox, lambda r: r["documents"], "the offline copy")
            await finish(offline, inbox["documents"][0]["delivery_id"])
        results = await wait_for(
            self.books.results,
            lambda rs: any(r["document_id"] == document.header.id for r in rs),
            "the offline result waiting to be loaded",
        )
        waiting = next(r for r in results if r["document_id"] == document.header.id)
        check(waiting["mode"] == "offline", f"mode {waiting['mode']}")
        check(waiting["state"] == "completed", f"state {waiting['state']}")
        self.sent.append(document)
        return f"offline terminal {paired['pin']} finished DEMO-0003; it waits to be loaded"

    async def mark_loaded(self) -> str:
        document = self.sent[-1]
        await self.books.mark_loaded(document.header.id)
        check(
            (await self.books.result(document.header.id))["state"] == "loaded",
            "the result is not marked loaded",
        )
        left = {r["document_id"] for r in await self.books.results()}
        check(document.header.id not in left, "the loaded result is still listed as waiting")
        return "DEMO-0003 marked loaded; no longer waiting"

    async def lan_group(self) -> str:
        await self._require_lan()
        tenant = self.tenant["tenant"]
        async with AdminClient(self.url, self.admin_token) as admin:
            await admin.create_group(tenant, LAN_GROUP)
            for login, name in LAN_USERS:
                await admin.create_user(tenant, login, name=name, password=LAN_PASSWORD)
                await admin.add_member(tenant, LAN_GROUP, login)
        document = order("DEMO-0004")
        group = {"kind": "group", "value": LAN_GROUP}
        answer = await self.books.upload(self.upload_body(group, document, channel="lan"))
        _accepted_delivery(answer)
        login = LAN_USERS[0][0]
        async with LanClient(self.lan_url, language="ru") as user:
            await user.login(tenant, login, LAN_PASSWORD)
            mine = await wait_for(user.documents, bool, f"the document in {login}'s list")
            delivery_id = mine[0]["delivery_id"]
            await user.take(delivery_id)
            lines = planned_facts((await user.document(delivery_id))["document"])
            await user.send_result(delivery_id, uuid.uuid4().hex, as_json(lines), final=True)
        await wait_for(
            self.books.results,
            lambda rs: any(r["document_id"] == document.header.id for r in rs),
            "the LAN result in GET /api/v1/results",
        )
        return f"DEMO-0004 → group «{LAN_GROUP}»; {login} took it, finished it, the result is back"

    async def _require_lan(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                ready = (await http.get(f"{self.lan_url}/readyz")).status_code == 200
        except httpx.TransportError:
            ready = False
        if not ready:
            raise Skipped(f"no LAN API answers at {self.lan_url}")


def _pin(pin: str) -> dict[str, str]:
    return {"kind": "pin", "value": pin}


def _another_pin(pin: str) -> str:
    """A PIN of the same length that this (new) base has not given to its terminals."""
    return str((int(pin) + 1) % 10 ** len(pin)).zfill(len(pin))


def _accepted_delivery(answer: dict[str, Any]) -> dict[str, Any]:
    check(answer.get("status") == "accepted", f"{answer.get('code')}: {answer.get('message')}")
    deliveries = answer.get("deliveries") or []
    check(len(deliveries) == 1, f"{len(deliveries)} deliveries instead of 1")
    delivery: dict[str, Any] = deliveries[0]
    return delivery


def chapters(story: Story) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
    return [
        ("An administrator creates a base", story.create_base),
        ("A terminal pairs and shows its PIN", story.pair_terminal),
        (f"The operator uploads «{ORDER_TYPE}» by PIN", story.upload_by_pin),
        ("A wrong PIN is refused", story.wrong_pin),
        ("The terminal is in the base's device list", story.device_list),
        ("The second upload picks the device from the list", story.upload_from_list),
        ("The terminal scans and finishes", story.scan_and_finish),
        ("Online: the results come back", story.online_result),
        ("Offline: the result waits on the server", story.offline_waits),
        ("The operator loads it", story.mark_loaded),
        ("LAN: an upload to a group of users", story.lan_group),
    ]


async def play(args: argparse.Namespace) -> int:
    story = Story(url=args.url, lan_url=args.lan_url, admin_token=args.admin_token)
    print(f"tsdx demo against {args.url}")
    passed = skipped = 0
    steps = chapters(story)
    try:
        for number, (title, step) in enumerate(steps, start=1):
            try:
                detail = await step()
            except Skipped as why:
                print(f"{number:2} – {title}: skipped ({why})")
                skipped += 1
                continue
            except StepFailed as why:
                print(f"{number:2} ✗ {title}: {why}")
                return FAILED
            except ApiError as exc:
                print(f"{number:2} ✗ {title}: {exc.status} {exc.code}: {exc.message}")
                return UNREACHABLE if exc.status == 503 else FAILED
            except httpx.TransportError as exc:
                print(
                    f"{number:2} ✗ {title}: no answer from the server ({exc or type(exc).__name__})"
                )
                return UNREACHABLE
            print(f"{number:2} ✓ {title}: {detail}")
            passed += 1
    finally:
        await story.close()
    print(f"{passed} steps passed" + (f", {skipped} skipped" if skipped else ""))
    return OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="play the exchange step by step on a running stack")
    demo.add_argument(
        "--url",
        default=os.environ.get("TSDX_URL", DEFAULT_URL),
        help=f"the gateway (TSDX_URL; default {DEFAULT_URL})",
    )
    demo.add_argument(
        "--lan-url",
        default=None,
        help="the LAN API (default: TSDX_HOST and TSDX_LAN_PORT, e.g. http://127.0.0.1:8081)",
    )
    demo.add_argument(
        "--admin-token", default=None, help="the operators' token (default TSDX_ADMIN_TOKEN)"
    )
    add_language_option(demo)
    demo.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    settings = Settings()
    args.admin_token = args.admin_token or settings.admin_token
    args.lan_url = args.lan_url or f"http://{settings.host}:{settings.lan_port}"
    return run_command(args, play)
