"""Records read from and written to stored rows by field name (shared/storage/records.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shared.storage.records import record_of, row_of


@dataclass(frozen=True)
class Item:
    id: str
    count: int
    note: str | None = None
    kind: str = "plain"
    tags: list[str] = field(default_factory=list)


def test_a_row_reads_as_its_record_with_the_defaults_of_what_it_lacks() -> None:
    assert record_of(Item, {"id": "a", "count": 2}) == Item("a", 2)
    full = {"id": "a", "count": 2, "note": "n", "kind": "box", "tags": ["x"]}
    assert record_of(Item, full) == Item("a", 2, "n", "box", ["x"])


def test_a_field_read_otherwise_is_given_by_name() -> None:
    assert record_of(Item, {"id": "a", "count": "2"}, count=2) == Item("a", 2)


def test_a_row_lacking_a_required_field_is_refused() -> None:
    with pytest.raises(KeyError, match="count"):
        record_of(Item, {"id": "a"})


def test_a_record_writes_its_fields_leaving_out_none_where_none_is_the_default() -> None:
    assert row_of(Item("a", 2)) == {"id": "a", "count": 2, "kind": "plain", "tags": []}
    assert row_of(Item("a", 2, note="n"))["note"] == "n"


def test_a_field_written_otherwise_is_given_by_name_and_none_leaves_it_out() -> None:
    assert row_of(Item("a", 2, tags=["x"]), tags=None, kind="box") == {
        "id": "a",
        "count": 2,
        "kind": "box",
    }


def test_what_is_written_reads_back_the_same() -> None:
    item = Item("a", 2, "n", "box", ["x"])
    assert record_of(Item, row_of(item)) == item
