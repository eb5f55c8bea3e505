"""What the dashboard makes of its feed (pure: events in, figures out; no stack needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.dashboard.activity import Activity
from services.dashboard.feed_events import RoutedCopiesSeen, read_event
from shared.contracts import Envelope, Payload, decode, encode, wrap
from shared.contracts.directory import DeviceChanged, DeviceSeen, DeviceSeenV1, DeviceView, Sighting
from shared.contracts.documents import Target
from shared.contracts.results import (
    DeliveriesProgressed,
    DeliveryProgressed,
    ProgressedCopy,
    ResultRefused,
)
from shared.contracts.uploads import Delivery, DocumentRouted, DocumentRoutedV1, UploadDecided

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
NOW = T0.timestamp()


def _decided(request_id: str, outcome: str = "accepted", **extra: Any) -> UploadDecided:
    return UploadDecided(
        request_id=request_id,
        process="purchase-receipt",
        channel="internet",
        target=Target(kind="pin", value="5546"),
        outcome=outcome,
        requested_at=T0,
        **extra,
    )


def _event(payload: Payload, tenant: str = "t1", at: datetime = T0) -> Envelope:
    envelope = wrap(payload, tenant, correlation_id="c1")
    return envelope.model_copy(update={"time": at})


def _device(
    revision: int, mode: str = "online", last_seen: datetime | None = None
) -> DeviceChanged:
    view = DeviceView(
        id="d1",
        tenant="t1",
        pin="5546",
        name="EDA50",
        model="EDA50",
        hardware_id="@HW",
        mode=mode,
        status="active",
        last_seen=last_seen,
    )
    return DeviceChanged(device=view, credential_hash="h" * 64, revision=revision)


def test_a_decision_becomes_a_feed_line_with_its_latency_and_resolved_device() -> None:
    activity = Activity()
    delivery = Delivery(
        delivery_id="dl1",
        document_id="doc1",
        channel="internet",
        target=Target(kind="device", value="d1"),
        device_pin="5546",
        device_name="EDA50",
    )
    decided = _decided("r1", deliveries=[delivery])
    assert activity.record(_event(decided, at=T0 + timedelta(milliseconds=42)), decided, NOW)
    [line] = activity.feed("ru")
    assert line["request_id"] == "r1"
    assert line["resolved"] == ["5546 (EDA50)"]
    assert line["document"] == "doc1"
    assert line["latency_ms"] == 42.0
    assert activity.counters["accepted"] == 1


def test_lan_recipients_are_named_in_the_reader_s_language() -> None:
    activity = Activity()
    deliveries = [
        Delivery(
            delivery_id=f"dl{n}",
            document_id="doc1",
            channel="lan",
            target=Target(kind=kind, value=value),
        )
        for n, (kind, value) in enumerate(
            (("group", "Смена 1"), ("user", "petrov"), ("everyone", None))
        )
    ]
    decided = _decided("r1", deliveries=deliveries)
    assert activity.record(_event(decided), decided, NOW)
    [russian] = activity.feed("ru")
    assert russian["resolved"] == ["группа Смена 1", "пользователь petrov", "все"]
    [english] = activity.feed("en")
    assert english["resolved"] == ["group Смена 1", "user petrov", "everyone"]


def test_a_resent_event_is_taken_once() -> None:
    activity = Activity()
    decided = _decided("r1")
    envelope = _event(decided)
    assert activity.record(envelope, decided, NOW) is True
    assert activity.record(envelope, decided, NOW) is False
    assert len(activity.feed("ru")) == 1
    assert activity.counters["accepted"] == 1


def test_a_decision_announced_again_is_a_repeat_counted_once_per_tenant() -> None:
    activity = Activity()
    first = _decided("r1", "refused", code="device_not_found_by_pin")
    for tenant in ("t1", "t1", "t2"):
        activity.record(_event(first, tenant), first, NOW)
    assert [line["repeat"] for line in activity.feed("ru")] == [False, True, False]
    assert activity.counters["refused"] == 2
    assert activity.counters["repeated"] == 1
    [refusal] = activity.refusals("en")
    assert refusal["count"] == 2
    assert refusal["message"].startswith("No device found by this PIN")


def test_refusal_messages_use_the_parameters_of_the_refusal() -> None:
    activity = Activity()
    refused = ResultRefused(
        result_id="res1",
        delivery_id="dl1",
        channel="lan",
        code="quantity_over_plan",
        params={"line": 2, "fact": "5", "planned": "3"},
    )
    activity.record(_event(refused), refused, NOW)
    [refusal] = activity.refusals("ru")
    assert (refusal["kind"], refusal["message"]) == (
        "result",
        "Строка 2: количество 5 больше плана 3.",
    )
    assert activity.counters["results_refused"] == 1


def _routed(
    channel: str, delivery_ids: list[str], decided: UploadDecided | None = None
) -> DocumentRouted:
    return DocumentRouted.model_validate(
        {
            "request_id": "r1",
            "process": "p",
            "channel": channel,
            "documents": [{"header": {"accounting_type": "Заказ", "id": "doc1"}}],
            "copies": [
                {
                    "delivery_id": delivery_id,
                    "document_id": "doc1",
                    "version": 1,
                    "target": {"kind": "group", "value": "Смена 1"},
                }
                for delivery_id in delivery_ids
            ],
            "requested_at": T0.isoformat(),
            "decided": decided.model_dump(mode="json") if decided else None,
        }
    )


def test_routed_copies_are_counted_by_channel_and_not_listed() -> None:
    activity = Activity()
    routed = _routed("lan", ["dl1", "dl2"])
    activity.record(_event(routed), routed, NOW)
    old = DocumentRoutedV1.model_validate(
        {
            "delivery_id": "dl3",
            "request_id": "r1",
            "process": "p",
            "version": 1,
            "channel": "lan",
            "target": {"kind": "group", "value": "Смена 1"},
            "document": {"header": {"accounting_type": "Заказ", "id": "doc1"}},
            "requested_at": T0.isoformat(),
        }
    )
    activity.record(_event(old), old, NOW)  # a copy routed before the upgrade
    assert activity.counters["routed_lan"] == 3
    assert activity.feed("ru") == []


def test_a_decision_that_came_with_its_copies_is_listed_and_counted() -> None:
    activity = Activity()
    routed = _routed("internet", ["dl1"], _decided("r1"))
    activity.record(_event(routed), routed, NOW)
    [line] = activity.feed("ru")
    assert (line["request_id"], line["repeat"]) == ("r1", False)
    assert (activity.counters["accepted"], activity.counters["routed_internet"]) == (1, 1)


def test_the_feed_reads_a_routed_message_by_its_summary_and_counts_it_the_same() -> None:
    routed = _routed("internet", ["dl1", "dl2"], _decided("r1"))
    body = encode(_event(routed))
    envelope, summary = read_event(body)
    assert isinstance(summary, RoutedCopiesSeen)
    assert (summary.channel, len(summary.copies)) == ("internet", 2)
    by_view, by_model = Activity(), Activity()
    by_view.record(envelope, summary, NOW)
    full_envelope, full = decode(body)
    by_model.record(full_envelope, full, NOW)
    assert by_view.counters == by_model.counters
    assert by_view.feed("en") == by_model.feed("en")


def test_throughput_keeps_a_window_of_buckets_oldest_first() -> None:
    activity = Activity(bucket_seconds=5, buckets=4)
    for n, (offset, outcome) in enumerate([(-30, "accepted"), (-3, "refused"), (0, "accepted")]):
        decided = _decided(f"r{n}", outcome)
        activity.record(_event(decided), decided, NOW + offset)
    points = activity.throughput(NOW)["points"]
    assert [(p["accepted"], p["refused"]) for p in points] == [(0, 0), (0, 0), (0, 1), (1, 0)]
    assert points[-1]["at"] == int(NOW // 5) * 5


def test_the_feed_keeps_the_newest_lines_only() -> None:
    activity = Activity(feed_size=3)
    for n in range(5):
        decided = _decided(f"r{n}")
        activity.record(_event(decided), decided, NOW)
    assert [line["request_id"] for line in activity.feed("ru")] == ["r4", "r3", "r2"]
    assert [line["request_id"] for line in activity.feed("ru", limit=1)] == ["r4"]


def test_devices_follow_their_revisions_and_the_registry_list_fills_gaps() -> None:
    activity = Activity(online_window=timedelta(minutes=5))
    newer, older = _device(3, "offline"), _device(2, "online")
    activity.record(_event(newer), newer, NOW)
    activity.record(_event(older), older, NOW)
    other = _device(1).device.model_copy(update={"id": "d2", "pin": "1234"})
    activity.seed_devices([older.device, other])
    devices = activity.devices(T0)
    assert [(d["id"], d["mode"], d["revision"]) for d in devices] == [
        ("d2", "online", 0),
        ("d1", "offline", 3),
    ]


def test_a_device_is_online_while_its_last_contact_is_recent() -> None:
    activity = Activity(online_window=timedelta(minutes=5))
    cases = [
        (None, None),
        (T0 - timedelta(minutes=1), True),
        (T0 - timedelta(minutes=6), False),
        (datetime(2026, 11, 28, 9, 58), True),  # stored without a zone: UTC
    ]
    for revision, (last_seen, online) in enumerate(cases, start=1):
        changed = _device(revision, last_seen=last_seen)
        activity.record(_event(changed), changed, NOW)
        [device] = activity.devices(T0)
        assert device["online"] is online, last_seen


def test_a_device_blocked_or_retired_is_not_online_however_recent_its_last_contact() -> None:
    activity = Activity(online_window=timedelta(minutes=5))
    for revision, status in enumerate(("blocked", "retired"), start=1):
        changed = _device(revision, last_seen=T0 - timedelta(seconds=10))
        changed.device.status = status
        activity.record(_event(changed), changed, NOW)
        [device] = activity.devices(T0)
        assert (device["status"], device["online"]) == (status, False)


def test_a_sighting_before_the_device_s_first_change_is_kept_for_it() -> None:
    # The sighting comes from the gateway, the change from the registry: no order between them.
    activity = Activity(online_window=timedelta(minutes=5))
    seen = DeviceSeen(sightings=[Sighting(device_id="d1", at=T0 - timedelta(seconds=10))])
    activity.record(_event(seen), seen, NOW)
    changed = _device(1, last_seen=None)
    activity.record(_event(changed), changed, NOW)
    [device] = activity.devices(T0)
    assert device["online"] is True
    assert device["last_seen"] == "2026-11-28T09:59:50Z"


def test_a_later_change_with_an_older_last_seen_does_not_undo_a_sighting() -> None:
    activity = Activity(online_window=timedelta(minutes=5))
    first = _device(1, last_seen=T0 - timedelta(minutes=10))
    activity.record(_event(first), first, NOW)
    # A sighting sent before the upgrade (one device a message) counts as well.
    seen = DeviceSeenV1(device_id="d1", at=T0 - timedelta(seconds=5))
    activity.record(_event(seen), seen, NOW)
    renamed = _device(2, last_seen=T0 - timedelta(minutes=10))
    activity.record(_event(renamed), renamed, NOW)
    [device] = activity.devices(T0)
    assert (device["revision"], device["online"]) == (2, True)
    assert device["last_seen"] == "2026-11-28T09:59:55Z"


def test_one_sighting_message_updates_every_device_it_lists() -> None:
    activity = Activity(online_window=timedelta(minutes=5))
    for revision, device_id in enumerate(("d1", "d2"), start=1):
        changed = DeviceChanged(
            device=_device(1, last_seen=None).device.model_copy(update={"id": device_id}),
            credential_hash=f"h{revision}",
            revision=1,
        )
        activity.record(_event(changed), changed, NOW)
    seen = DeviceSeen(
        sightings=[
            Sighting(device_id="d1", at=T0 - timedelta(seconds=3)),
            Sighting(device_id="d2", at=T0 - timedelta(minutes=9)),
        ]
    )
    activity.record(_event(seen), seen, NOW)
    online = {d["id"]: d["online"] for d in activity.devices(T0)}
    assert online == {"d1": True, "d2": False}


def test_a_terminal_s_download_through_the_gateway_counts_as_its_contact() -> None:
    # The gateway announces no device.seen for a contact its download told of.
    activity = Activity(online_window=timedelta(minutes=5))
    changed = _device(1, last_seen=T0 - timedelta(minutes=10))
    activity.record(_event(changed), changed, NOW)
    downloaded = DeliveryProgressed(
        delivery_id="dl-1", channel="internet", state="downloaded", by="d1"
    )
    assert activity.record(_event(downloaded, at=T0 - timedelta(seconds=2)), downloaded, NOW)
    # A LAN copy's progress is no contact with the gateway: not taken.
    lan = DeliveryProgressed(delivery_id="dl-2", channel="lan", state="downloaded", by="d1")
    assert not activity.record(_event(lan, at=T0), lan, NOW)
    [device] = activity.devices(T0)
    assert (device["online"], device["last_seen"]) == (True, "2026-11-28T09:59:58Z")


def test_several_downloads_acknowledged_together_count_as_one_contact() -> None:
    activity = Activity(online_window=timedelta(minutes=5))
    changed = _device(1, last_seen=T0 - timedelta(minutes=10))
    activity.record(_event(changed), changed, NOW)
    together = DeliveriesProgressed(
        channel="internet",
        by="d1",
        copies=[ProgressedCopy(delivery_id=f"dl-{n}", state="downloaded") for n in (1, 2)],
    )
    assert activity.record(_event(together, at=T0 - timedelta(seconds=3)), together, NOW)
    [device] = activity.devices(T0)
    assert (device["online"], device["last_seen"]) == (True, "2026-11-28T09:59:57Z")
