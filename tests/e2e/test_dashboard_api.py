"""The dashboard's JSON endpoints and page, against the whole stack on a real RabbitMQ.

Decisions reach the dashboard as events (its own feed queue); queue depths come from the
management API of the stack's vhost; parked messages are listed and replayed over AMQP.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
import pytest

from services.dashboard.broker_state import vhost_of
from shared.contracts import encode, wrap
from shared.contracts.documents import Document, Target
from shared.contracts.uploads import UploadRequested
from shared.messaging.consumer import REASON_HEADER
from shared.messaging.topology import EVENTS_EXCHANGE, ROUTING_WORK, WORK_QUEUES
from tests.support.documents import PURCHASE, by_pin, order, upload
from tests.support.metrics import metric
from tests.support.stack import ADMIN_TOKEN
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, TerminalClient
from tools.client.api import ApiError

API = "/api/v1/dashboard"
PARK_REASON = "parked by hand: the operator checks the replay"
PIN_MESSAGE = "Устройство по пин-коду не найдено! Документы не выгружены в ТСД."


def _upload_request(pin: str) -> UploadRequested:
    return UploadRequested(
        request_id=f"amqp-{uuid.uuid4().hex[:10]}",
        process=PURCHASE,
        target=Target(kind="pin", value=pin),
        documents=[Document.model_validate(order(number="0000-000777"))],
    )


async def park_upload(stack: Stack, tenant: str, pin: str) -> tuple[str, str]:
    """Put a valid upload request straight into routing's parking queue, as a poison message
    would have been parked. Returns its message id and request id."""
    request = _upload_request(pin)
    envelope = wrap(request, tenant, correlation_id=uuid.uuid4().hex)
    connection = await aio_pika.connect(stack.env["TSDX_AMQP_URL"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                encode(envelope),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=envelope.id,
                correlation_id=envelope.correlation_id,
                headers={
                    REASON_HEADER: PARK_REASON,
                    "x-parked-at": datetime.now(UTC).isoformat(),
                    "x-parked-from": ROUTING_WORK.name,
                },
            ),
            routing_key=ROUTING_WORK.parked,
            mandatory=True,
        )
    return envelope.id, request.request_id


OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _get(client: httpx.AsyncClient, path: str) -> Any:
    """A read of the dashboard's JSON, as the page does it: with the admin token."""
    response = await client.get(path, headers=OPERATOR)
    assert response.status_code == 200, response.text
    return response.json()


async def upload_status(accounting: AccountingClient, request_id: str) -> dict[str, Any]:
    """The gateway's answer to a request, or {} while the gateway has not heard of it."""
    try:
        return await accounting.upload_status(request_id)
    except ApiError as exc:
        if exc.status == 404:
            return {}
        raise


async def decided_upload(accounting: AccountingClient, body: dict[str, Any]) -> dict[str, Any]:
    """Upload and return the decision, waiting for it if the gateway answered "pending"."""
    answer = await accounting.upload(body)
    if answer["status"] != "pending":
        return answer
    return await eventually(
        lambda: upload_status(accounting, body["request_id"]),
        until=lambda s: s.get("status") not in (None, "pending"),
        what=f"the decision on {body['request_id']}",
    )


def _entry(activity: dict[str, Any], request_id: str) -> dict[str, Any] | None:
    return next((e for e in activity["feed"] if e["request_id"] == request_id), None)


async def test_decisions_refusals_and_devices_show_up_live(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with (
        TerminalClient(stack.url("gateway")) as terminal,
        httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard,
    ):
        paired = await terminal.pair(
            tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}", "EDA50", "EDA50"
        )
        pin = paired["pin"]
        accepted = await decided_upload(accounting, upload(by_pin(pin)))
        assert accepted["status"] == "accepted", accepted
        wrong = ("1" if pin[0] != "1" else "2") + pin[1:]
        refused_body = upload(by_pin(wrong))
        refused = await decided_upload(accounting, refused_body)
        assert refused["code"] == "device_not_found_by_pin"

        activity = await eventually(
            lambda: _get(dashboard, f"{API}/activity"),
            until=lambda a: (
                _entry(a, refused_body["request_id"]) is not None
                and _entry(a, accepted["request_id"]) is not None
            ),
            what="both decisions in the dashboard's feed",
        )
        entry = _entry(activity, accepted["request_id"])
        assert entry is not None
        assert entry["outcome"] == "accepted"
        assert entry["process"] == PURCHASE
        assert entry["channel"] == "internet"
        assert entry["target"] == {"kind": "pin", "value": pin}
        assert entry["resolved"] == [f"{pin} (EDA50)"]
        assert entry["tenant"] == tenant["tenant"]
        assert entry["latency_ms"] is not None and entry["latency_ms"] >= 0
        no_device = _entry(activity, refused_body["request_id"])
        assert no_device is not None
        assert no_device["outcome"] == "refused"
        assert no_device["code"] == "device_not_found_by_pin"
        assert no_device["message"] == PIN_MESSAGE
        assert activity["counters"]["accepted"] >= 1
        assert activity["counters"]["refused"] >= 1
        assert activity["counters"]["routed_internet"] >= 1
        codes = {(r["kind"], r["code"]): r for r in activity["refusals"]}
        assert codes[("upload", "device_not_found_by_pin")]["count"] >= 1
        points = activity["throughput"]["points"]
        assert sum(p["accepted"] for p in points) >= 1
        assert sum(p["refused"] for p in points) >= 1

        english = await dashboard.get(
            f"{API}/activity", headers={**OPERATOR, "Accept-Language": "en"}
        )
        english_entry = _entry(english.json(), refused_body["request_id"])
        assert english_entry is not None
        assert english_entry["message"].startswith("No device found by this PIN")

        # The terminal has been in contact (pairing is its first call): the gateway says so.
        devices = await eventually(
            lambda: _get(dashboard, f"{API}/devices"),
            until=lambda d: any(
                x["id"] == paired["device_id"] and x["online"] for x in d["devices"]
            ),
            what="the paired device online on the dashboard",
        )
        [device] = [x for x in devices["devices"] if x["id"] == paired["device_id"]]
        assert device["last_seen"] is not None
        assert device["pin"] == pin
        assert device["tenant"] == tenant["tenant"]
        assert device["mode"] == "online"
        assert device["status"] == "active"


async def test_a_request_decided_again_is_shown_as_a_repeat_and_counted_once(
    stack: Stack, tenant: dict[str, str]
) -> None:
    # An AMQP adapter that sends the same request twice gets the same decision re-announced.
    request = _upload_request("0000")
    connection = await aio_pika.connect(stack.env["TSDX_AMQP_URL"])
    async with (
        connection,
        httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard,
    ):
        channel = await connection.channel(publisher_confirms=True)
        events = await channel.get_exchange(EVENTS_EXCHANGE)
        for _ in range(2):
            envelope = wrap(request, tenant["tenant"], correlation_id=uuid.uuid4().hex)
            await events.publish(
                aio_pika.Message(encode(envelope), message_id=envelope.id),
                routing_key=request.routing_key(),
                mandatory=True,
            )

        def decisions(activity: dict[str, Any]) -> list[dict[str, Any]]:
            return [e for e in activity["feed"] if e["request_id"] == request.request_id]

        activity = await eventually(
            lambda: _get(dashboard, f"{API}/activity"),
            until=lambda a: len(decisions(a)) == 2,
            what="the decision and its re-announcement",
        )
    newest, first = decisions(activity)
    assert (first["repeat"], newest["repeat"]) == (False, True)
    assert first["outcome"] == newest["outcome"] == "refused"
    assert activity["counters"]["repeated"] >= 1


async def test_queues_come_from_the_stacks_own_vhost(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        # The management API samples its figures every few seconds: wait for consumers to show.
        answer = await eventually(
            lambda: _get(dashboard, f"{API}/queues"),
            until=lambda q: {x["name"]: x for x in q["queues"]}["routing.work"]["consumers"] >= 1,
            timeout=30,
            what="routing.work with its consumer in the management API",
        )
    assert answer["vhost"] == stack.env["TSDX_TEST_VHOST"]
    by_name = {q["name"]: q for q in answer["queues"]}
    assert set(by_name) == {q.name for q in WORK_QUEUES}
    assert by_name["routing.work"]["type"] == "quorum"


async def test_a_parked_message_is_listed_and_replayed(
    stack: Stack, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    async with (
        TerminalClient(stack.url("gateway")) as terminal,
        httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard,
    ):
        paired = await terminal.pair(tenant["connection_code"], f"@HW-{uuid.uuid4().hex[:8]}")
        message_id, request_id = await park_upload(stack, tenant["tenant"], paired["pin"])

        def parked_ids(answer: dict[str, Any]) -> set[str]:
            return {p["message_id"] for p in answer["parked"]}

        listed = await eventually(
            lambda: _get(dashboard, f"{API}/parked"),
            until=lambda p: message_id in parked_ids(p),
            what="the parked message listed",
        )
        [mine] = [p for p in listed["parked"] if p["message_id"] == message_id]
        assert mine["queue"] == ROUTING_WORK.name
        assert mine["reason"] == PARK_REASON
        assert mine["type"] == "upload.requested"
        # Listing only peeks: it is still there when listed again.
        assert message_id in parked_ids(await _get(dashboard, f"{API}/parked"))

        replayed = await dashboard.post(
            f"{API}/parked/replay",
            json={"queue": ROUTING_WORK.name, "message_id": message_id},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["replayed"] == 1
        assert message_id not in parked_ids(await _get(dashboard, f"{API}/parked"))

        # Routing consumed it: the request is decided and the copy reaches the terminal.
        status = await eventually(
            lambda: upload_status(accounting, request_id),
            until=lambda s: s.get("status") == "accepted",
            what="the replayed request decided",
        )
        assert status["deliveries"][0]["device_pin"] == paired["pin"]
        inbox = await eventually(lambda: terminal.inbox(), until=lambda r: r["documents"])
        assert inbox["documents"][0]["delivery_id"] == status["deliveries"][0]["delivery_id"]


BAD_REPLAYS: list[tuple[dict[str, str] | None, dict[str, Any], int, str]] = [
    # (headers, or None for the admin token; body; status; code)
    ({}, {"queue": "routing.work"}, 401, "unauthorized"),
    ({"Authorization": "Bearer wrong"}, {"queue": "routing.work"}, 401, "unauthorized"),
    (None, {"queue": "nowhere.work"}, 404, "unknown_queue"),
    (None, {"queue": "routing.work", "message_id": "absent"}, 404, "parked_message_not_found"),
    (None, {"queue": "routing.work", "extra": 1}, 422, "validation_error"),
    (None, {"message_id": "x"}, 422, "validation_error"),
]


@pytest.mark.parametrize("path", ["activity", "devices", "queues", "parked"])
async def test_every_figure_needs_the_admin_token(stack: Stack, path: str) -> None:
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            answer = await dashboard.get(f"{API}/{path}", headers=headers)
            assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")


async def test_replay_refuses_bad_calls_and_changes_nothing(
    stack: Stack, tenant: dict[str, str]
) -> None:
    message_id, _ = await park_upload(stack, tenant["tenant"], "0000")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        for headers, body, status, code in BAD_REPLAYS:
            case = (headers, body)
            answer = await dashboard.post(
                f"{API}/parked/replay", json=body, headers=admin if headers is None else headers
            )
            assert answer.status_code == status, (case, answer.text)
            assert answer.json()["code"] == code, case
            assert answer.json()["message"], case  # Russian by default
            parked = await _get(dashboard, f"{API}/parked")
            assert message_id in {p["message_id"] for p in parked["parked"]}, case
        # Leave nothing parked for the tests after this one.
        cleanup = await dashboard.post(
            f"{API}/parked/replay",
            json={"queue": ROUTING_WORK.name, "message_id": message_id},
            headers=admin,
        )
        assert cleanup.status_code == 200


async def test_a_parked_message_is_discarded_for_good_and_bad_calls_change_nothing(
    stack: Stack, tenant: dict[str, str]
) -> None:
    junk, _ = await park_upload(stack, tenant["tenant"], "0000")
    kept, _ = await park_upload(stack, tenant["tenant"], "0000")
    queue = ROUTING_WORK.name
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        for headers, body, status, code in [
            ({}, {"queue": queue, "message_id": junk}, 401, "unauthorized"),
            (OPERATOR, {"queue": "nowhere.work", "message_id": junk}, 404, "unknown_queue"),
            (OPERATOR, {"queue": queue, "message_id": "absent"}, 404, "parked_message_not_found"),
            (OPERATOR, {"queue": queue}, 422, "validation_error"),  # one at a time, by id
        ]:
            refused = await dashboard.post(f"{API}/parked/discard", json=body, headers=headers)
            assert (refused.status_code, refused.json()["code"]) == (status, code), body
        parked = {p["message_id"] for p in (await _get(dashboard, f"{API}/parked"))["parked"]}
        assert {junk, kept} <= parked

        discarded = await dashboard.post(
            f"{API}/parked/discard", json={"queue": queue, "message_id": junk}, headers=OPERATOR
        )
        assert discarded.status_code == 200, discarded.text
        assert discarded.json() == {"queue": queue, "message_id": junk, "discarded": 1}
        parked = {p["message_id"] for p in (await _get(dashboard, f"{API}/parked"))["parked"]}
        assert junk not in parked and kept in parked  # the other one stays
        again = await dashboard.post(
            f"{API}/parked/discard", json={"queue": queue, "message_id": junk}, headers=OPERATOR
        )
        assert again.json()["code"] == "parked_message_not_found"
        # Leave nothing parked for the tests after this one.
        cleanup = await dashboard.post(
            f"{API}/parked/discard", json={"queue": queue, "message_id": kept}, headers=OPERATOR
        )
        assert cleanup.status_code == 200
    counted = await metric(stack.url("dashboard"), "tsdx_parked_discarded_total", queue=queue)
    assert counted >= 2


async def test_unknown_queue_is_explained_in_the_callers_language(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ru = await dashboard.post(f"{API}/parked/replay", json={"queue": "x"}, headers=auth)
        en = await dashboard.post(
            f"{API}/parked/replay", json={"queue": "x"}, headers={**auth, "Accept-Language": "en"}
        )
    assert ru.json()["message"] == "Рабочей очереди «x» нет."
    assert en.json()["message"] == "There is no work queue “x”."


async def test_page_is_russian_by_default_and_english_on_request(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.url("dashboard")) as dashboard:
        default = await dashboard.get("/")
        by_query = await dashboard.get("/", params={"lang": "en"})
        by_header = await dashboard.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
        query_wins = await dashboard.get(
            "/", params={"lang": "ru"}, headers={"Accept-Language": "en"}
        )
        unknown = await dashboard.get("/", params={"lang": "de"})
    assert default.status_code == 200
    assert '<html lang="ru">' in default.text
    assert "Лента решений" in default.text
    assert default.headers["content-language"] == "ru"
    for english in (by_query, by_header):
        assert '<html lang="en">' in english.text
        assert "Decision feed" in english.text
    assert "Лента решений" in query_wins.text
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("url", "vhost"),
    [
        ("amqp://guest:guest@localhost:5672/", "/"),
        ("amqp://guest:guest@localhost:5672", "/"),
        ("amqp://guest:guest@localhost:5672/%2F", "/"),
        ("amqp://u:p@rabbit/tsdx-prod", "tsdx-prod"),
        ("amqps://u:p@rabbit:5671/a%2Fb?heartbeat=30", "a/b"),
    ],
)
def test_vhost_is_read_from_the_amqp_url(url: str, vhost: str) -> None:
    assert vhost_of(url) == vhost
