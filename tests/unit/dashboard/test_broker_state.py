"""The broker's state as the dashboard reads it: queue depths folded from the management API's
rows, and the addresses it is reached at. Pure: no HTTP, no broker."""

from __future__ import annotations

from services.dashboard.broker_state import (
    QueueDepth,
    split_credentials,
    vhost_of,
    work_queue_depths,
)
from shared.messaging.topology import LAN_WRITER_WORK, ROUTING_WORK


def test_a_work_queue_folds_in_its_retry_and_parking_queues() -> None:
    rows = [
        {
            "name": ROUTING_WORK.name,
            "type": "quorum",
            "messages_ready": 3,
            "messages_unacknowledged": 1,
            "consumers": 2,
        },
        {"name": f"{ROUTING_WORK.name}.retry.1", "messages": 4},
        {"name": f"{ROUTING_WORK.name}.retry.2", "messages": 5},
        {"name": ROUTING_WORK.parked, "messages": 6},
        {"name": "someone.elses.queue", "messages": 100},
    ]
    [routing, lan] = work_queue_depths(rows, (ROUTING_WORK, LAN_WRITER_WORK))
    assert routing == QueueDepth(
        name=ROUTING_WORK.name,
        type="quorum",
        ready=3,
        unacked=1,
        consumers=2,
        retrying=9,
        parked=6,
    )
    # A queue the broker does not list (not declared yet) shows as empty, not as an error.
    assert lan == QueueDepth(LAN_WRITER_WORK.name, "", 0, 0, 0, 0, 0)


def test_figures_the_api_left_out_or_sent_as_text_count_as_zero() -> None:
    rows = [{"name": ROUTING_WORK.name, "messages_ready": None, "consumers": "2"}]
    [depth] = work_queue_depths(rows, (ROUTING_WORK,))
    assert (depth.ready, depth.consumers, depth.unacked) == (0, 0, 0)


def test_the_virtual_host_is_the_urls_path_decoded() -> None:
    assert vhost_of("amqp://guest:guest@localhost:5672/") == "/"
    assert vhost_of("amqp://localhost") == "/"
    assert vhost_of("amqp://localhost/tsdx%2Ftest") == "tsdx/test"


def test_credentials_are_taken_out_of_the_management_url() -> None:
    assert split_credentials("http://user:p%40ss@rabbit:15672/api/") == (
        "http://rabbit:15672/api",
        ("user", "p@ss"),
    )
    assert split_credentials("http://rabbit:15672/api") == ("http://rabbit:15672/api", None)
