"""``tsdx demo``: the exchange told as a story, step by step, against a running stack.

A new base is created for every run, so the demo can be played again and again on the same
stack. Each step prints one numbered line with ✓ or ✗; the first ✗ ends the demo. The exit
code is 0 only if every step passed (a step the stack cannot offer is shown as skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from shared.contracts.documents import Document, DocumentHeader, DocumentLine
from shared.i18n import render, text
from shared.settings import Settings
from tools.cli.output import (
    FAILED,
    OK,
    UNREACHABLE,
    URL_HELP,
    add_language_option,
    big_digits,
    default_gateway_url,
    run_command,
    transport_error,
)
from tools.cli.tsd import as_json, finish, planned_facts
from tools.client.api import (
    AccountingClient,
    AdminClient,
    ApiError,
    LanClient,
    TerminalClient,
)

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
    language: str,
    timeout: float = 20.0,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise StepFailed(
                text("cli.demo.not_seen", language, what=what, timeout=f"{timeout:.0f}")
            )
        await asyncio.sleep(0.2)


def check(condition: bool, failure: str) -> None:
    """A check whose failure shows the server's own words (its code and message)."""
    if not condition:
        raise StepFailed(failure)


@dataclass
class Story:
    """What the steps share: the base, its clients and what happened so far."""

    url: str
    lan_url: str
    admin_token: str
    language: str = "ru"
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

    def say(self, key: str, **params: Any) -> str:
        return text(key, self.language, **params)

    def check(self, condition: bool, key: str, **params: Any) -> None:
        if not condition:
            raise StepFailed(self.say(key, **params))

    def wait_for(
        self,
        probe: Callable[[], Awaitable[T]],
        until: Callable[[T], bool],
        what: str,
        **params: Any,
    ) -> Awaitable[T]:
        return wait_for(probe, until, self.say(what, **params), self.language)

    def accepted_delivery(self, answer: dict[str, Any]) -> dict[str, Any]:
        check(answer.get("status") == "accepted", f"{answer.get('code')}: {answer.get('message')}")
        deliveries = answer.get("deliveries") or []
        self.check(len(deliveries) == 1, "cli.demo.check.deliveries", count=len(deliveries))
        delivery: dict[str, Any] = deliveries[0]
        return delivery

    # The steps, in the order they are told -------------------------------------------------

    async def create_base(self) -> str:
        async with AdminClient(self.url, self.admin_token, language=self.language) as admin:
            self.tenant = await admin.create_tenant(
                f"Демо-склад {self.suffix}", f"demo-{self.suffix}"
            )
        self.accounting = AccountingClient(self.url, self.tenant["api_key"], language=self.language)
        return self.say(
            "cli.demo.base_created",
            tenant=self.tenant["tenant"],
            code=self.tenant["connection_code"],
        )

    async def pair_terminal(self) -> str:
        self.terminal = TerminalClient(self.url, language=self.language)
        paired = await self.tsd.pair(
            self.tenant["connection_code"], ONLINE_TERMINAL, MODEL, MODEL, "online"
        )
        self.pin, self.device_id = paired["pin"], paired["device_id"]
        self.check(self.pin.isdigit(), "cli.demo.check.pin_digits", pin=repr(self.pin))
        shown = (await self.tsd.me())["pin"]
        self.check(shown == self.pin, "cli.demo.check.menu_pin", shown=shown, pin=self.pin)
        menu = "\n".join(f"        {row}" for row in big_digits(self.pin).splitlines())
        shows = self.say(
            "cli.demo.shows_pin", model=MODEL, hardware_id=ONLINE_TERMINAL, pin=self.pin
        )
        return f"{shows}\n\n{menu}\n"

    async def upload_by_pin(self) -> str:
        document = order("DEMO-0001")
        answer = await self.books.upload(self.upload_body(_pin(self.pin), document))
        delivery = self.accepted_delivery(answer)
        self.check(
            delivery.get("device_pin") == self.pin, "cli.demo.check.elsewhere", delivery=delivery
        )
        self.sent.append(document)
        return f"«{ORDER_TYPE}» № DEMO-0001 → {self.pin} {delivery.get('device_name', '')}"

    async def wrong_pin(self) -> str:
        wrong = _another_pin(self.pin)
        answer = await self.books.upload(self.upload_body(_pin(wrong), order("DEMO-0000")))
        expected = render("device_not_found_by_pin", self.language)
        self.check(answer.get("status") == "refused", "cli.demo.check.not_refused", answer=answer)
        code = answer.get("code")
        self.check(code == "device_not_found_by_pin", "cli.demo.check.code", code=code)
        message = answer.get("message")
        self.check(message == expected, "cli.demo.check.message", message=repr(message))
        inbox = await self.wait_for(
            self.tsd.inbox, lambda r: r["documents"], "cli.demo.wait.first_document"
        )
        numbers = [d["number"] for d in inbox["documents"]]
        self.check(numbers == ["DEMO-0001"], "cli.demo.check.holds", numbers=numbers)
        return self.say("cli.demo.wrong_pin_refused", pin=wrong, message=answer["message"])

    async def device_list(self) -> str:
        title = f"{self.pin}  {MODEL}, ({ONLINE_TERMINAL})"
        devices = await self.books.devices()
        self.check(
            any(d["device_id"] == self.device_id and d["title"] == title for d in devices),
            "cli.demo.check.not_listed",
            title=title,
            titles=[d["title"] for d in devices],
        )
        return self.say("cli.demo.list_offers", title=title)

    async def upload_from_list(self) -> str:
        document = order("DEMO-0002")
        target = {"kind": "device", "value": self.device_id}
        answer = await self.books.upload(self.upload_body(target, document))
        delivery = self.accepted_delivery(answer)
        self.check(
            delivery.get("device_pin") == self.pin, "cli.demo.check.elsewhere", delivery=delivery
        )
        self.sent.append(document)
        return self.say(
            "cli.demo.picked_from_list", type=ORDER_TYPE, number="DEMO-0002", pin=self.pin
        )

    async def scan_and_finish(self) -> str:
        inbox = await self.wait_for(
            self.tsd.inbox, lambda r: len(r["documents"]) >= 2, "cli.demo.wait.two_documents"
        )
        numbers = []
        for position, item in enumerate(inbox["documents"]):
            await finish(self.tsd, item["delivery_id"], self.language, partial=position == 0)
            numbers.append(item["number"])
        return self.say("cli.demo.scanned", numbers=", ".join(numbers))

    async def online_result(self) -> str:
        wanted = {d.header.id for d in self.sent}
        results = await self.wait_for(
            self.books.results,
            lambda rs: wanted <= {r["document_id"] for r in rs},
            "cli.demo.wait.both_results",
        )
        for summary in results:
            self.check(summary["mode"] == "online", "cli.demo.check.mode", mode=summary["mode"])
        first = self.sent[0]
        got = await self.books.result(first.header.id)
        facts = {f["line_no"]: Decimal(f["quantity"]) for f in got["result"]["lines"]}
        planned = {line.line_no: line.planned_qty for line in first.lines}
        self.check(facts == planned, "cli.demo.check.facts", facts=facts, planned=planned)
        return self.say("cli.demo.results_back", count=len(wanted), type=got["result_type"])

    async def offline_waits(self) -> str:
        async with TerminalClient(self.url, language=self.language) as offline:
            paired = await offline.pair(
                self.tenant["connection_code"], OFFLINE_TERMINAL, MODEL, MODEL, "offline"
            )
            document = order("DEMO-0003")
            answer = await self.books.upload(self.upload_body(_pin(paired["pin"]), document))
            self.accepted_delivery(answer)
            inbox = await self.wait_for(
                offline.inbox, lambda r: r["documents"], "cli.demo.wait.offline_copy"
            )
            await finish(offline, inbox["documents"][0]["delivery_id"], self.language)
        results = await self.wait_for(
            self.books.results,
            lambda rs: any(r["document_id"] == document.header.id for r in rs),
            "cli.demo.wait.offline_result",
        )
        waiting = next(r for r in results if r["document_id"] == document.header.id)
        self.check(waiting["mode"] == "offline", "cli.demo.check.mode", mode=waiting["mode"])
        self.check(waiting["state"] == "completed", "cli.demo.check.state", state=waiting["state"])
        self.sent.append(document)
        return self.say("cli.demo.offline_finished", pin=paired["pin"], number="DEMO-0003")

    async def mark_loaded(self) -> str:
        document = self.sent[-1]
        await self.books.mark_loaded(document.header.id)
        state = (await self.books.result(document.header.id))["state"]
        self.check(state == "loaded", "cli.demo.check.not_loaded")
        left = {r["document_id"] for r in await self.books.results()}
        self.check(document.header.id not in left, "cli.demo.check.still_waiting")
        return self.say("cli.demo.marked_loaded", number=document.header.number)

    async def lan_group(self) -> str:
        await self._require_lan()
        tenant = self.tenant["tenant"]
        async with AdminClient(self.url, self.admin_token, language=self.language) as admin:
            await admin.create_group(tenant, LAN_GROUP)
            for login, name in LAN_USERS:
                await admin.create_user(tenant, login, name=name, password=LAN_PASSWORD)
                await admin.add_member(tenant, LAN_GROUP, login)
        document = order("DEMO-0004")
        group = {"kind": "group", "value": LAN_GROUP}
        answer = await self.books.upload(self.upload_body(group, document, channel="lan"))
        self.accepted_delivery(answer)
        login = LAN_USERS[0][0]
        async with LanClient(self.lan_url, language=self.language) as user:
            await user.login(tenant, login, LAN_PASSWORD)
            mine = await self.wait_for(
                user.documents, bool, "cli.demo.wait.lan_document", login=login
            )
            delivery_id = mine[0]["delivery_id"]
            await user.take(delivery_id)
            lines = planned_facts((await user.document(delivery_id))["document"])
            await user.send_result(delivery_id, uuid.uuid4().hex, as_json(lines), final=True)
        await self.wait_for(
            self.books.results,
            lambda rs: any(r["document_id"] == document.header.id for r in rs),
            "cli.demo.wait.lan_result",
        )
        return self.say("cli.demo.lan_finished", number="DEMO-0004", group=LAN_GROUP, login=login)

    async def _require_lan(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                ready = (await http.get(f"{self.lan_url}/readyz")).status_code == 200
        except httpx.TransportError:
            ready = False
        if not ready:
            raise Skipped(self.say("cli.demo.no_lan", url=self.lan_url))


def _pin(pin: str) -> dict[str, str]:
    return {"kind": "pin", "value": pin}


def _another_pin(pin: str) -> str:
    """A PIN of the same length that this (new) base has not given to its terminals."""
    return str((int(pin) + 1) % 10 ** len(pin)).zfill(len(pin))


def chapters(story: Story) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
    steps: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        (story.say("cli.demo.step.create_base"), story.create_base),
        (story.say("cli.demo.step.pair_terminal"), story.pair_terminal),
        (story.say("cli.demo.step.upload_by_pin", type=ORDER_TYPE), story.upload_by_pin),
        (story.say("cli.demo.step.wrong_pin"), story.wrong_pin),
        (story.say("cli.demo.step.device_list"), story.device_list),
        (story.say("cli.demo.step.upload_from_list"), story.upload_from_list),
        (story.say("cli.demo.step.scan_and_finish"), story.scan_and_finish),
        (story.say("cli.demo.step.online_result"), story.online_result),
        (story.say("cli.demo.step.offline_waits"), story.offline_waits),
        (story.say("cli.demo.step.mark_loaded"), story.mark_loaded),
        (story.say("cli.demo.step.lan_group"), story.lan_group),
    ]
    return steps


async def play(args: argparse.Namespace) -> int:
    language: str = args.lang
    story = Story(
        url=args.url, lan_url=args.lan_url, admin_token=args.admin_token, language=language
    )
    print(story.say("cli.demo.header", url=args.url))
    passed = skipped = 0
    steps = chapters(story)
    try:
        for number, (title, step) in enumerate(steps, start=1):
            try:
                detail = await step()
            except Skipped as why:
                print(f"{number:2} – {title}: {story.say('cli.demo.skipped', why=why)}")
                skipped += 1
                continue
            except StepFailed as why:
                print(f"{number:2} ✗ {title}: {why}")
                return FAILED
            except ApiError as exc:
                print(f"{number:2} ✗ {title}: {exc.status} {exc.code}: {exc.message}")
                return UNREACHABLE if exc.status == 503 else FAILED
            except httpx.TransportError as exc:
                lost = story.say("cli.demo.no_answer", transport_error=transport_error(exc))
                print(f"{number:2} ✗ {title}: {lost}")
                return UNREACHABLE
            print(f"{number:2} ✓ {title}: {detail}")
            passed += 1
    finally:
        await story.close()
    if skipped:
        print(story.say("cli.demo.summary_skipped", passed=passed, skipped=skipped))
    else:
        print(story.say("cli.demo.summary", passed=passed))
    return OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="play the exchange step by step on a running stack")
    demo.add_argument(
        "--url",
        default=default_gateway_url(),
        help=URL_HELP,
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
