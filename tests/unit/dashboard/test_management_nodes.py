"""Which node's management API the dashboard asks, and in what order (the rules of
ManagementApi, over an in-process transport standing in for the nodes' HTTP answers)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from services.dashboard.broker_state import (
    SKIP_SILENT_NODE_SECONDS,
    ManagementApi,
    ManagementUnavailable,
    QueueDepth,
)

A = "http://tsdx:s3cret@rabbit-1:15672/api"
B = "http://tsdx:s3cret@rabbit-2:15672/api"
C = "http://tsdx:s3cret@rabbit-3:15672/api"
ROWS = [{"name": "routing.work", "type": "quorum", "messages_ready": 2}]


class Nodes:
    """Each node's behaviour by host, and the hosts asked, in order."""

    def __init__(self, **behaviour: Callable[[httpx.Request], httpx.Response]) -> None:
        self.behaviour = behaviour
        self.asked: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.asked.append(host)
        return self.behaviour[host.replace("-", "_")](request)


def answers(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"].startswith("Basic ")  # each node's own user
    return httpx.Response(200, json=ROWS)


def refuses(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused")


def silent(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectTimeout("")


def status(code: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, text="<html>busy</html>")


def html(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="<html>a proxy's page</html>")


def routing(depths: list[QueueDepth]) -> QueueDepth:
    [queue] = [d for d in depths if d.name == "routing.work"]
    return queue


def api(nodes: Nodes, *urls: str, clock: Callable[[], float] = lambda: 0.0) -> ManagementApi:
    return ManagementApi(urls, "/", transport=httpx.MockTransport(nodes.handler), clock=clock)


async def test_the_node_that_answered_is_asked_first_next_time() -> None:
    nodes = Nodes(rabbit_1=refuses, rabbit_2=answers, rabbit_3=answers)
    management = api(nodes, A, B, C)
    assert routing(await management.queue_depths()).ready == 2
    await management.queue_depths()
    assert nodes.asked == ["rabbit-1", "rabbit-2", "rabbit-2"]
    await management.close()


@pytest.mark.parametrize("answer", [status(401), status(503), html], ids=["401", "503", "html"])
async def test_a_node_answering_wrongly_leaves_the_next_to_ask(
    answer: Callable[[httpx.Request], httpx.Response],
) -> None:
    nodes = Nodes(rabbit_1=answer, rabbit_2=answers)
    management = api(nodes, A, B)
    assert routing(await management.queue_depths()).type == "quorum"
    assert nodes.asked == ["rabbit-1", "rabbit-2"]
    await management.close()


async def test_a_silent_node_is_passed_over_for_a_while_then_asked_again() -> None:
    now = [0.0]
    nodes = Nodes(rabbit_1=silent, rabbit_2=status(503))
    management = api(nodes, A, B, clock=lambda: now[0])
    with pytest.raises(ManagementUnavailable):
        await management.queue_depths()
    with pytest.raises(ManagementUnavailable):
        await management.queue_depths()  # the silent one asked last, not first
    assert nodes.asked == ["rabbit-1", "rabbit-2", "rabbit-2", "rabbit-1"]
    now[0] = SKIP_SILENT_NODE_SECONDS + 1
    nodes.behaviour["rabbit_1"] = answers
    nodes.asked.clear()
    assert routing(await management.queue_depths()).ready == 2
    assert nodes.asked == ["rabbit-1"]
    await management.close()


async def test_when_no_node_answers_each_is_named_and_why_without_its_password() -> None:
    nodes = Nodes(rabbit_1=silent, rabbit_2=status(401), rabbit_3=html)
    management = api(nodes, A, B, C)
    with pytest.raises(ManagementUnavailable) as unavailable:
        await management.queue_depths()
    said = str(unavailable.value)
    assert "http://tsdx:******@rabbit-1:15672/api: ConnectTimeout: no answer" in said
    assert "rabbit-2:15672/api: HTTP 401 for /queues/%2F" in said
    assert "rabbit-3:15672/api: an answer that is not JSON" in said
    assert "s3cret" not in said
    await management.close()
