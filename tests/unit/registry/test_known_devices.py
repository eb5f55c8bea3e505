"""Each base's list of known devices: what upload.decided adds, what the list shows. The
use cases run on SQLite with no broker; which devices an answer reached is pure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from services.registry import repository as repo
from services.registry.device_life import DeviceLife
from services.registry.known_devices import KnownDevices, RoutedDecision
from services.registry.pairing import Pairing
from shared.contracts import Envelope, decode, encode, wrap
from shared.contracts.documents import Document, DocumentHeader, Target
from shared.contracts.uploads import DocumentRouted, RoutedCopy, UploadDecided
from shared.outbox import Tx, UnitOfWork
from shared.storage import StorageError, Store
from tests.unit.registry.steps import decided, pair, remember

MORNING = datetime(2026, 12, 5, 9, tzinfo=UTC)
T = TypeVar("T")


def test_an_accepted_upload_reaches_each_device_it_delivered_to_once() -> None:
    answer = decided(
        [("device", "d1"), ("user", "ivanov"), ("device", "d2"), ("device", "d1"), ("group", "g")]
    )
    assert answer.devices_reached() == ["d1", "d2"]


def test_a_refused_upload_reaches_nothing() -> None:
    assert decided([("device", "d1")], outcome="refused").devices_reached() == []


def test_a_lan_upload_to_a_device_reaches_it_too() -> None:
    assert decided([("device", "d1")], channel="lan").devices_reached() == ["d1"]


async def test_the_list_shows_the_bases_devices_reached_the_latest_first(
    pairing: Pairing, known_devices: KnownDevices, base: dict[str, str]
) -> None:
    first = await pair(pairing, base, "hw-1")
    second = await pair(pairing, base, "hw-2")
    await pair(pairing, base, "hw-3")  # never addressed: not listed
    await remember(known_devices, "sklad", decided([("device", first["id"])], at=MORNING))
    later = MORNING + timedelta(hours=1)
    await remember(known_devices, "sklad", decided([("device", second["id"])], at=later))

    listed = await known_devices.known("sklad")

    assert [(d["id"], d["last_used_at"]) for d in listed] == [
        (second["id"], later.isoformat()),
        (first["id"], MORNING.isoformat()),
    ]
    assert listed[0]["pin"] == second["pin"]


async def test_a_late_or_repeated_answer_never_moves_a_device_back(
    pairing: Pairing, known_devices: KnownDevices, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    later = MORNING + timedelta(hours=1)
    await remember(known_devices, "sklad", decided([("device", device["id"])], at=later))
    await remember(known_devices, "sklad", decided([("device", device["id"])], at=MORNING))

    [listed] = await known_devices.known("sklad")

    assert listed["last_used_at"] == later.isoformat()


async def test_a_refused_upload_adds_nothing(
    pairing: Pairing, known_devices: KnownDevices, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    await remember(known_devices, "sklad", decided([("device", device["id"])], outcome="refused"))
    assert await known_devices.known("sklad") == []


async def test_only_active_devices_of_the_base_are_listed(
    pairing: Pairing,
    device_life: DeviceLife,
    known_devices: KnownDevices,
    base: dict[str, str],
    other_base: dict[str, str],
) -> None:
    blocked = await pair(pairing, base, "hw-1")
    active = await pair(pairing, base, "hw-2")
    both = decided([("device", blocked["id"]), ("device", active["id"])])
    await remember(known_devices, "sklad", both)
    await device_life.block("sklad", blocked["id"])
    # An answer filed under another base names this base's device: that base does not see it.
    await remember(known_devices, "mira", decided([("device", active["id"])]))

    assert [d["id"] for d in await known_devices.known("sklad")] == [active["id"]]
    assert await known_devices.known("mira") == []


async def test_the_same_event_twice_lists_the_device_as_once(
    pairing: Pairing, known_devices: KnownDevices, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    answer = decided([("device", device["id"])], at=MORNING)
    event = await remember(known_devices, "sklad", answer)
    await remember(known_devices, "sklad", answer, same_event=event)  # delivered again
    [listed] = await known_devices.known("sklad")
    assert (listed["id"], listed["last_used_at"]) == (device["id"], MORNING.isoformat())


async def test_messages_in_hand_at_once_are_noted_together_the_latest_use_kept(
    store: Store, pairing: Pairing, base: dict[str, str]
) -> None:
    first, second = [await pair(pairing, base, f"hw-{n}") for n in (1, 2)]
    writes: list[int] = []
    uow = _CountingUnitOfWork(store, writes)
    known_devices = KnownDevices(store, uow, notes_at_most=2)
    later = MORNING + timedelta(hours=1)
    # Handed over together: the first two fill a transaction, the third takes the next.
    await asyncio.gather(
        remember(known_devices, "sklad", decided([("device", first["id"])], at=later)),
        remember(known_devices, "sklad", decided([("device", first["id"])], at=MORNING)),
        remember(known_devices, "sklad", decided([("device", second["id"])], at=MORNING)),
    )
    assert writes == [1, 1]
    listed = {d["id"]: d["last_used_at"] for d in await known_devices.known("sklad")}
    assert listed == {first["id"]: later.isoformat(), second["id"]: MORNING.isoformat()}


async def test_while_notes_come_often_a_note_waits_for_those_arriving_after_it(
    store: Store, pairing: Pairing, base: dict[str, str]
) -> None:
    first, second, third = [await pair(pairing, base, f"hw-{n}") for n in (1, 2, 3)]
    writes: list[int] = []
    # A wait no test reaches: a transaction waited for is written once two notes are in.
    known_devices = KnownDevices(
        store, _CountingUnitOfWork(store, writes), notes_at_most=2, notes_wait_seconds=3600
    )
    # After a quiet spell (here: none written yet) a note is written at once.
    await remember(known_devices, "sklad", decided([("device", first["id"])], at=MORNING))
    assert writes == [1]

    # The next comes within the wait: it waits for others.
    earlier = asyncio.create_task(
        remember(known_devices, "sklad", decided([("device", second["id"])], at=MORNING))
    )
    for _ in range(3):  # turns of the loop pass: the note is still waiting
        await asyncio.sleep(0)
    assert not earlier.done() and writes == [1]

    await remember(known_devices, "sklad", decided([("device", third["id"])], at=MORNING))
    await earlier

    assert writes == [1, 1]  # the second and the third in one transaction
    listed = {d["id"] for d in await known_devices.known("sklad")}
    assert listed == {first["id"], second["id"], third["id"]}


async def test_a_store_that_is_away_fails_every_message_it_held(
    store: Store, pairing: Pairing, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    known_devices = KnownDevices(store, UnitOfWork(store, None))
    await store.close()  # every write fails now: each message is retried by its consumer
    results = await asyncio.gather(
        remember(known_devices, "sklad", decided([("device", device["id"])])),
        remember(known_devices, "sklad", decided([("device", device["id"])])),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [StorageError, StorageError]


async def test_a_note_that_cannot_be_written_fails_its_own_message_only(
    store: Store, pairing: Pairing, base: dict[str, str]
) -> None:
    damaged, first, second = [await pair(pairing, base, f"hw-{n}") for n in (0, 1, 2)]
    # The damaged device's entry lost its time of use (a row edited by hand, say): noting that
    # device again cannot read it, so its write fails, whatever was written with it.
    key = repo.known_device_key("sklad", damaged["id"])
    await store.put(
        repo.KNOWN_DEVICES.name, {"id": key, "tenant": "sklad", "device_id": damaged["id"]}
    )
    writes: list[int] = []
    known_devices = KnownDevices(store, _CountingUnitOfWork(store, writes))

    results = await asyncio.gather(
        remember(known_devices, "sklad", decided([("device", first["id"])], at=MORNING)),
        remember(known_devices, "sklad", decided([("device", damaged["id"])], at=MORNING)),
        remember(known_devices, "sklad", decided([("device", second["id"])], at=MORNING)),
        return_exceptions=True,
    )

    assert [isinstance(r, Exception) for r in results] == [False, True, False]
    assert len(writes) == 4  # all three together, then each by itself
    for device in (first, second):
        noted = await repo.known_device(store, "sklad", device["id"])
        assert noted is not None and noted.last_used_at == MORNING.isoformat()
    assert await store.get(repo.KNOWN_DEVICES.name, key) == {
        "id": key,
        "tenant": "sklad",
        "device_id": damaged["id"],
    }  # left as it was


async def test_a_message_given_up_on_leaves_the_others_noted(
    pairing: Pairing, base: dict[str, str], store: Store
) -> None:
    first, second = [await pair(pairing, base, f"hw-{n}") for n in (1, 2)]
    known_devices = KnownDevices(store, UnitOfWork(store, None))
    given_up = asyncio.create_task(
        remember(known_devices, "sklad", decided([("device", first["id"])]))
    )
    kept = asyncio.create_task(
        remember(known_devices, "sklad", decided([("device", second["id"])]))
    )
    await asyncio.sleep(0)  # both noted theirs and wait for the write
    given_up.cancel()
    await kept
    assert given_up.cancelled()
    listed = {d["id"] for d in await known_devices.known("sklad")}
    assert listed == {first["id"], second["id"]}  # its note was written with the others


class _CountingUnitOfWork(UnitOfWork):
    """Counts the transactions it runs, and the notes' in each (as uses written)."""

    def __init__(self, store: Store, writes: list[int]) -> None:
        super().__init__(store, None)
        self._writes = writes

    async def run(self, work: Callable[[Tx], Awaitable[T]], applying: Envelope | None = None) -> T:
        self._writes.append(1)
        return await super().run(work, applying)


async def test_an_answer_without_a_base_is_filed_nowhere(
    store: Store, pairing: Pairing, known_devices: KnownDevices, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    await remember(known_devices, None, decided([("device", device["id"])]))
    assert await repo.bases_knowing(store, device["id"]) == []


def _routed_with(answer: UploadDecided | None) -> DocumentRouted:
    """An internet upload's routed copies, carrying its decision or not."""
    document = Document(header=DocumentHeader(accounting_type="Заказ", id="doc-0"))
    delivery = answer.deliveries[0] if answer else None
    return DocumentRouted(
        request_id="r-1",
        process="order",
        channel="internet",
        documents=[document],
        copies=[
            RoutedCopy(
                delivery_id=delivery.delivery_id if delivery else "c-0",
                document_id="doc-0",
                version=1,
                target=delivery.target if delivery else Target(kind="device", value="x"),
            )
        ],
        requested_at=MORNING,
        decided=answer,
    )


async def _hand_routed(known_devices: KnownDevices, routed: DocumentRouted) -> None:
    """Hand the routed message to the device list as the registry's consumer reads it: by the
    view that takes only its decision."""
    envelope, view = decode(encode(wrap(routed, "sklad")), {VIEW_KEY: RoutedDecision})
    assert isinstance(view, RoutedDecision)
    await known_devices.remember_routed(envelope, view)


VIEW_KEY = (DocumentRouted.TYPE, DocumentRouted.VERSION)


async def test_a_decision_that_came_with_its_copies_lists_the_device(
    pairing: Pairing, known_devices: KnownDevices, base: dict[str, str]
) -> None:
    device = await pair(pairing, base, "hw-1")
    routed = _routed_with(decided([("device", device["id"])], at=MORNING))
    await _hand_routed(known_devices, routed)
    [listed] = await known_devices.known("sklad")
    assert (listed["id"], listed["last_used_at"]) == (device["id"], MORNING.isoformat())


async def test_copies_whose_decision_came_by_itself_add_nothing(
    pairing: Pairing, known_devices: KnownDevices, base: dict[str, str]
) -> None:
    await pair(pairing, base, "hw-1")
    await _hand_routed(known_devices, _routed_with(None))
    assert await known_devices.known("sklad") == []
