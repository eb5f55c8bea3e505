"""What the registry gives those who keep a copy of its directory, on real SQLite: a base's
people announced whole after each change with a growing revision, a replaced device naming its
successor, and the snapshot served page by page."""

from __future__ import annotations

from typing import Any

import pytest

from services.registry import directory_feed
from services.registry.device_life import DeviceLife
from services.registry.pairing import Pairing
from services.registry.people import People
from shared.errors import Refusal
from shared.outbox import OUTBOX, stored_envelope
from shared.storage import Store
from tests.unit.registry.steps import pair


async def _events(store: Store, kind: str) -> list[dict[str, Any]]:
    rows = await store.find(OUTBOX.name, order_by="seq")
    return [stored_envelope(row)["payload"] for row in rows if stored_envelope(row)["type"] == kind]


async def test_each_change_of_people_announces_the_whole_base_as_its_next_revision(
    store: Store, people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", None, "secret", None)
    await people.create_user("sklad", "petrov", None, None, None)
    await people.create_group("sklad", "Смена 1")
    await people.add_member("sklad", "Смена 1", "petrov")
    await people.add_member("sklad", "Смена 1", "ivanov")
    await people.remove_member("sklad", "Смена 1", "petrov")
    await people.rename_group("sklad", "Смена 1", "Приёмка")
    await people.delete_user("sklad", "ivanov")

    announced = await _events(store, "people.changed")
    # A base whose people were never announced is at revision 1: the first change is 2.
    assert [e["revision"] for e in announced] == list(range(2, 10))
    assert {e["tenant"] for e in announced} == {"sklad"}
    assert announced[4]["groups"] == {"Смена 1": ["ivanov", "petrov"]}
    assert announced[6]["groups"] == {"Приёмка": ["ivanov"]}
    assert announced[-1] == {
        "tenant": "sklad",
        "users": ["petrov"],
        "groups": {"Приёмка": []},
        "revision": 9,
    }


async def test_a_refused_change_of_people_announces_nothing(
    store: Store, people: People, base: dict[str, str]
) -> None:
    await people.create_user("sklad", "ivanov", None, None, None)
    before = await _events(store, "people.changed")
    with pytest.raises(Refusal):
        await people.create_user("sklad", "ivanov", None, None, None)
    assert await _events(store, "people.changed") == before


async def test_a_replaced_device_names_its_successor_in_its_last_change(
    store: Store, pairing: Pairing, device_life: DeviceLife, base: dict[str, str]
) -> None:
    old = await pair(pairing, base, "hw-old")
    new = await pair(pairing, base, "hw-new")
    await device_life.replace("sklad", old["id"], new["id"])

    changes = await _events(store, "device.changed")
    last_of_old = [c for c in changes if c["device"]["id"] == old["id"]][-1]
    assert (last_of_old["device"]["status"], last_of_old["replaced_by"]) == ("retired", new["id"])
    assert [c["replaced_by"] for c in changes if c["device"]["id"] == new["id"]] == [None, None]


async def test_the_snapshot_gives_every_device_once_page_by_page_and_people_on_the_first(
    store: Store, pairing: Pairing, people: People, base: dict[str, str], other_base: dict[str, str]
) -> None:
    paired = [await pair(pairing, base, f"hw-{n}") for n in range(5)]
    paired.append(await pair(pairing, other_base, "hw-mira"))
    await people.create_user("sklad", "ivanov", None, None, None)

    seen: list[dict[str, Any]] = []
    after: str | None = None
    pages = []
    while True:
        page = (await directory_feed.snapshot(store, after, 2)).model_dump(mode="json")
        pages.append(page)
        seen.extend(page["devices"])
        if page["next"] is None:
            break
        after = page["next"]

    assert sorted(d["device"]["id"] for d in seen) == sorted(d["id"] for d in paired)
    assert len(pages) == 3 + 1  # three full pages of two; the last full one cannot know it is
    assert all(d["revision"] == 1 and "credential_hash" in d for d in seen)
    people_of = {p["tenant"]: p for p in pages[0]["people"]}
    assert people_of["sklad"]["users"] == ["ivanov"]
    assert people_of["sklad"]["revision"] == 2
    assert people_of["mira"] == {"tenant": "mira", "users": [], "groups": {}, "revision": 1}
    assert all(not page["people"] for page in pages[1:])
