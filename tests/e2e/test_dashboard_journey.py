"""The dashboard's document timeline is the one the gateway's API and ``tsdx document show``
give: with the steps only the gateway keeps (a result pushed to the base's webhook, a push that
failed, the first time 1C pulled the result), asked of the gateway over RPC. When the gateway
is away, routing's steps are still shown and the answer says which part is missing.

The stack of this module pushes to a receiver on 127.0.0.1 and gives up after three attempts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shared.contracts import gateway_rpc as gateway
from shared.errors import Refusal
from shared.messaging.broker import Broker
from shared.messaging.rpc import RpcClient
from shared.messaging.topology import GATEWAY_RPC
from shared.settings import Settings
from tests.e2e.test_gateway_webhooks import Receiver, finish_one, paired, receiving
from tests.support.stack import ADMIN_TOKEN, running_stack
from tests.support.waiting import eventually
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def journey_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("dashboard-journey"),
        services=("registry", "routing", "gateway", "dashboard"),
        extra_env={
            "TSDX_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true",
            "TSDX_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "TSDX_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
            "TSDX_WEBHOOK_MAX_ATTEMPTS": "3",
            "TSDX_WEBHOOK_TIMEOUT_SECONDS": "5",
        },
    ) as s:
        yield s


@pytest.fixture
async def base(journey_stack: Stack) -> AsyncIterator[tuple[dict[str, str], AccountingClient]]:
    async with AdminClient(journey_stack.url("gateway"), ADMIN_TOKEN) as admin:
        tenant = await admin.create_tenant(f"Склад {uuid.uuid4().hex[:6]}")
    async with AccountingClient(journey_stack.url("gateway"), tenant["api_key"]) as accounting:
        yield tenant, accounting


def steps(view: dict[str, Any]) -> list[str]:
    return [s["step"] for s in view["timeline"]]


async def both_views(
    stack: Stack, tenant: str, document_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document as the dashboard shows it and as the gateway's admin API does."""
    async with (
        httpx.AsyncClient(base_url=stack.url("dashboard"), headers=AUTH, timeout=30) as board,
        AdminClient(stack.url("gateway"), ADMIN_TOKEN) as admin,
    ):
        answer = await board.get(f"/api/v1/dashboard/documents/{tenant}/{document_id}")
        assert answer.status_code == 200, answer.text
        return answer.json(), await admin.document_journey(tenant, document_id)


async def test_the_gateway_refuses_a_malformed_question_for_its_steps(
    journey_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant = base[0]["tenant"]
    broker = Broker(Settings(amqp_url=journey_stack.env["TSDX_AMQP_URL"]), "test")
    await broker.connect()
    try:
        rpc = RpcClient(broker, "test", 30.0)
        await rpc.start()
        never = gateway.ByDocument(document_id="never-uploaded")
        steps = await gateway.Gateway(rpc, tenant).result_steps(never)
        assert steps == gateway.ResultSteps(steps=[])
        # What no typed caller can build goes on the wire as it is.
        method = gateway.Gateway.result_steps.name
        for params, where in (
            ({"document_id": ""}, None),
            ({"document_id": "x", "extra": 1}, None),
            ({"document_id": "x"}, "no tenant"),
        ):
            with pytest.raises(Refusal) as refused:
                await rpc.send(GATEWAY_RPC, method, params, None if where else tenant)
            assert refused.value.code == "validation_error", (params, where)
    finally:
        await broker.close()


async def test_the_dashboard_timeline_has_the_gateways_steps(
    journey_stack: Stack, base: tuple[dict[str, str], AccountingClient]
) -> None:
    tenant, accounting = base
    # Three failures: the first document's push gives up; the next one is taken at once.
    async with receiving(Receiver(statuses=[500, 500, 500])) as receiver:
        await accounting.set_webhook(receiver.url)
        async with paired(journey_stack, tenant, "online") as terminal:
            failed_id = await finish_one(accounting, terminal)
            await eventually(
                lambda: accounting.webhook_deliveries("failed"),
                until=lambda d: failed_id in [x["document_id"] for x in d],
                what="the push given up",
            )
            pushed_id = await finish_one(accounting, terminal)
            await eventually(
                lambda: accounting.webhook_deliveries("delivered"),
                until=lambda d: pushed_id in [x["document_id"] for x in d],
                what="the push taken",
            )
    # A taken push counts as loaded; then 1C pulls the result all the same.
    await eventually(
        lambda: accounting.document(pushed_id),
        until=lambda v: "loaded" in steps(v),
        what="the loaded step",
    )
    await accounting.result(pushed_id)

    board, api = await both_views(journey_stack, tenant["tenant"], pushed_id)
    assert steps(board)[-3:] == ["pushed", "loaded", "pulled"]
    assert {"routed", "delivered", "result", "completed"} <= set(steps(board))
    pushed = board["timeline"][-3]
    assert (pushed["service"], pushed["attempts"]) == ("gateway", 1)
    assert board["timeline"] == api["timeline"]
    assert board["state"] == api["state"]
    assert "incomplete" not in board

    board, api = await both_views(journey_stack, tenant["tenant"], failed_id)
    assert steps(board)[-1] == "push_failed"
    assert board["timeline"][-1]["attempts"] == 3
    assert "pulled" not in steps(board)
    assert board["timeline"] == api["timeline"]

    # Without the gateway, routing's steps are still there, and the answer says what is not.
    journey_stack.kill("gateway")
    async with httpx.AsyncClient(
        base_url=journey_stack.url("dashboard"), headers=AUTH, timeout=60
    ) as http:
        answer = await http.get(f"/api/v1/dashboard/documents/{tenant['tenant']}/{pushed_id}")
    assert answer.status_code == 200, answer.text
    partial = answer.json()
    assert partial["incomplete"] == ["gateway"]
    assert "completed" in steps(partial)
    assert not {"pushed", "pulled"} & set(steps(partial))
