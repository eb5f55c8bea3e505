"""What the dashboard remembers of the live feed: recent decisions, counters, throughput, devices.

Pure state fed by :meth:`Activity.record` with decoded events; no I/O. Everything is counted
from the moment this dashboard process started: it is a live view, Prometheus keeps history.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from services.dashboard.feed_events import RoutedCopiesSeen
from shared.contracts import Envelope, Payload
from shared.contracts.directory import DeviceChanged, DeviceSeen, DeviceSeenV1, DeviceView
from shared.contracts.results import (
    DeliveriesProgressed,
    DeliveryProgressed,
    DocumentCompleted,
    DocumentCompletedV1,
    DocumentCompletedV2,
    ResultRefused,
)
from shared.contracts.uploads import DocumentRouted, DocumentRoutedV1, UploadDecided
from shared.i18n import render, word

EntryKind = Literal["decision", "completed", "result_refused"]

# Enough to recognise a re-sent event or a re-announced decision; older ones are forgotten.
_REMEMBERED_IDS = 10_000


@dataclass(frozen=True)
class FeedEntry:
    """One line of the live feed."""

    id: str
    kind: EntryKind
    at: datetime
    tenant: str
    correlation_id: str
    outcome: str  # accepted, refused, completed, result_refused
    request_id: str = ""
    process: str = ""
    channel: str = ""
    target: dict[str, Any] | None = None
    # Whom the copies went to, as (kind, who): a device as ("", "PIN (device name)"), a LAN
    # target by its kind, named in the reader's language when shown («группа Смена 1»).
    resolved: tuple[tuple[str, str], ...] = ()
    document: str = ""
    code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    latency_ms: float | None = None
    # The same request decided again (a repeated request id): shown, not counted twice.
    repeat: bool = False

    @classmethod
    def of(cls, envelope: Envelope, kind: EntryKind, outcome: str, **fields: Any) -> FeedEntry:
        """The entry of one message: its id, time, base and correlation are the envelope's."""
        fields.setdefault("tenant", envelope.tenant or "")
        return cls(
            id=envelope.id,
            kind=kind,
            at=envelope.time,
            correlation_id=envelope.correlation_id,
            outcome=outcome,
            **fields,
        )

    def to_json(self, language: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "tenant": self.tenant,
            "correlation_id": self.correlation_id,
            "outcome": self.outcome,
            "request_id": self.request_id,
            "process": self.process,
            "channel": self.channel,
            "target": self.target,
            "resolved": [_recipient(kind, who, language) for kind, who in self.resolved],
            "document": self.document,
            "code": self.code,
            "message": render(self.code, language, self.params) if self.code else None,
            "latency_ms": self.latency_ms,
            "repeat": self.repeat,
        }


def _latest(*moments: datetime | None) -> datetime | None:
    """The latest of some moments; one stored without a zone is UTC."""
    aware = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m is not None]
    return max(aware, default=None)


@dataclass
class DeviceState:
    view: DeviceView
    revision: int  # 0 when known only from the registry's list at start-up
    changed_at: datetime | None

    def to_json(
        self, now: datetime, online_window: timedelta, sighted: datetime | None
    ) -> dict[str, Any]:
        last_seen = _latest(self.view.last_seen, sighted)
        view = self.view.model_copy(update={"last_seen": last_seen})
        return {
            **view.model_dump(mode="json"),
            "revision": self.revision,
            "changed_at": self.changed_at.isoformat() if self.changed_at else None,
            # Unknown (None) until the device was ever seen; a blocked or retired device is
            # refused at its next call, so it is not online whatever its last contact.
            "online": None
            if last_seen is None
            else self.view.status == "active" and now - last_seen <= online_window,
        }


class _Remembered:
    """A bounded set: remembers the last ``size`` keys it was shown."""

    def __init__(self, size: int = _REMEMBERED_IDS) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def seen_before(self, key: str) -> bool:
        if key in self._keys:
            return True
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return False


def _recipient(kind: str, who: str, language: str) -> str:
    if not kind:
        return who
    return f"{word(kind, language, prefix='dashboard.target_')} {who}".strip()


def _device_label(pin: str | None, name: str | None) -> str:
    if pin and name:
        return f"{pin} ({name})"
    return pin or name or ""


class Activity:
    def __init__(
        self,
        *,
        feed_size: int = 200,
        bucket_seconds: int = 5,
        buckets: int = 60,
        online_window: timedelta = timedelta(minutes=5),
    ) -> None:
        self._feed: deque[FeedEntry] = deque(maxlen=feed_size)
        self._events = _Remembered()
        self._decisions = _Remembered()
        self.counters: Counter[str] = Counter()
        self._refusals: Counter[tuple[str, str]] = Counter()
        self._refusal_params: dict[tuple[str, str], dict[str, Any]] = {}
        self.started_at = datetime.now(UTC)
        self.bucket_seconds = bucket_seconds
        self._bucket_count = buckets
        self.window_seconds = bucket_seconds * buckets
        self._buckets: dict[int, Counter[str]] = {}
        self._devices: dict[str, DeviceState] = {}
        # Each device's latest sighting, kept apart from its view: a sighting (from the gateway)
        # may arrive before the device's first device.changed (from the registry), and a
        # later change may carry an older last_seen than the newest sighting.
        self._sightings: dict[str, datetime] = {}
        self._online_window = online_window

    # Feeding --------------------------------------------------------------------------------

    def record(self, envelope: Envelope, payload: Payload, received_at: float) -> bool:
        """Take one event in; False when it was seen before (a re-sent copy) or is not shown."""
        if self._events.seen_before(envelope.id):
            return False
        if isinstance(payload, UploadDecided):
            self._decided(envelope, payload, received_at)
        elif isinstance(payload, DocumentRouted | RoutedCopiesSeen):
            self.counters[f"routed_{payload.channel}"] += len(payload.copies)
            if payload.decided is not None:  # the decision came with its copies
                self._decided(envelope, payload.decided, received_at)
        elif isinstance(payload, DocumentRoutedV1):
            self.counters[f"routed_{payload.channel}"] += 1
        elif isinstance(payload, DocumentCompleted):
            self._completed(envelope, payload)
        elif isinstance(payload, DocumentCompletedV1 | DocumentCompletedV2):
            self._completed(envelope, payload.upgraded())
        elif isinstance(payload, ResultRefused):
            self._result_refused(envelope, payload)
        elif isinstance(payload, DeviceChanged):
            self._device_changed(envelope, payload)
        elif isinstance(payload, DeviceSeen):
            self._device_seen(payload)
        elif isinstance(payload, DeviceSeenV1):
            self._device_seen(payload.upgraded())
        elif (
            isinstance(payload, DeliveryProgressed | DeliveriesProgressed)
            and payload.channel == "internet"
        ):
            # A terminal's download through the gateway (or several acknowledged together): a
            # contact, which the gateway then does not announce by device.seen as well.
            if payload.by is None:
                return False
            self._sighted(payload.by, envelope.time)
        else:
            return False
        return True

    def _decided(self, envelope: Envelope, decided: UploadDecided, received_at: float) -> None:
        tenant = envelope.tenant or ""
        repeat = self._decisions.seen_before(f"{tenant}\x00{decided.request_id}")
        latency = (envelope.time - decided.requested_at).total_seconds() * 1000
        self._feed.appendleft(
            FeedEntry.of(
                envelope,
                "decision",
                decided.outcome,
                tenant=tenant,
                request_id=decided.request_id,
                process=decided.process,
                channel=decided.channel,
                target=decided.target.model_dump(mode="json"),
                resolved=tuple(
                    ("", label)
                    if (label := _device_label(d.device_pin, d.device_name))
                    else (d.target.kind, d.target.value or "")
                    for d in decided.deliveries
                ),
                document=", ".join(sorted({d.document_id for d in decided.deliveries})),
                code=decided.code,
                params=decided.params,
                latency_ms=round(max(0.0, latency), 1),
                repeat=repeat,
            )
        )
        if repeat:
            self.counters["repeated"] += 1
            return
        self.counters[decided.outcome] += 1
        self._bucket(received_at)[decided.outcome] += 1
        if decided.outcome == "refused" and decided.code:
            self._count_refusal("upload", decided.code, decided.params)

    def _completed(self, envelope: Envelope, completed: DocumentCompleted) -> None:
        self.counters["completed"] += 1
        self._feed.appendleft(
            FeedEntry.of(
                envelope,
                "completed",
                "completed",
                process=completed.process,
                document=completed.header.number or completed.document_id,
            )
        )

    def _result_refused(self, envelope: Envelope, refused: ResultRefused) -> None:
        self.counters["results_refused"] += 1
        self._count_refusal("result", refused.code, refused.params)
        self._feed.appendleft(
            FeedEntry.of(
                envelope,
                "result_refused",
                "result_refused",
                channel=refused.channel,
                document=refused.delivery_id,
                code=refused.code,
                params=refused.params,
            )
        )

    def _device_changed(self, envelope: Envelope, changed: DeviceChanged) -> None:
        known = self._devices.get(changed.device.id)
        if known is not None and known.revision > changed.revision:
            return  # an older change arriving late
        self._devices[changed.device.id] = DeviceState(
            changed.device, changed.revision, envelope.time
        )

    def _device_seen(self, seen: DeviceSeen) -> None:
        for sighting in seen.sightings:
            self._sighted(sighting.device_id, sighting.at)

    def _sighted(self, device_id: str, at: datetime) -> None:
        latest = _latest(self._sightings.get(device_id), at)
        assert latest is not None
        self._sightings[device_id] = latest

    def seed_devices(self, views: list[DeviceView]) -> None:
        """Devices the registry lists at start-up; an event already received wins."""
        for view in views:
            self._devices.setdefault(view.id, DeviceState(view, 0, None))

    def _count_refusal(self, kind: str, code: str, params: dict[str, Any]) -> None:
        self._refusals[(kind, code)] += 1
        self._refusal_params[(kind, code)] = params

    def _bucket(self, received_at: float) -> Counter[str]:
        index = int(received_at // self.bucket_seconds)
        for old in [i for i in self._buckets if i <= index - self._bucket_count]:
            del self._buckets[old]
        return self._buckets.setdefault(index, Counter())

    # Reading --------------------------------------------------------------------------------

    def feed(self, language: str, limit: int | None = None) -> list[dict[str, Any]]:
        entries = list(self._feed)[:limit]
        return [entry.to_json(language) for entry in entries]

    def refusals(self, language: str) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind,
                "code": code,
                "count": count,
                "message": render(code, language, self._refusal_params[(kind, code)]),
            }
            for (kind, code), count in self._refusals.most_common()
        ]

    def throughput(self, now: float) -> dict[str, Any]:
        """Decisions per bucket over the window ending now, oldest first, empty buckets too."""
        last = int(now // self.bucket_seconds)
        points = []
        for index in range(last - self._bucket_count + 1, last + 1):
            bucket = self._buckets.get(index, Counter())
            points.append(
                {
                    "at": index * self.bucket_seconds,
                    "accepted": bucket["accepted"],
                    "refused": bucket["refused"],
                }
            )
        return {"bucket_seconds": self.bucket_seconds, "points": points}

    def devices(self, now: datetime) -> list[dict[str, Any]]:
        states = sorted(self._devices.values(), key=lambda s: (s.view.tenant, s.view.pin))
        return [
            state.to_json(now, self._online_window, self._sightings.get(state.view.id))
            for state in states
        ]
