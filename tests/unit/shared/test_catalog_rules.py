"""The catalog's pure rules: which versions a copy holds, messages cut by bytes, a batch
checked item by item, and 1C's shapes of a catalog export."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.catalog import chunks
from shared.catalog.batch import CatalogInvalid, field_label, read_batch, rendered
from shared.catalog.versions import Coverage, newer
from shared.contracts.catalog import CatalogChanged, PlainChanges
from shared.onec.catalog_import import read_catalog_json
from shared.onec.errors import OneCImportError

# Versions ---------------------------------------------------------------------------------


def test_ranges_in_order_move_the_version() -> None:
    assert Coverage().cover(1, 5).cover(6, 9) == Coverage(9)


def test_a_range_after_a_gap_waits_until_the_gap_is_filled() -> None:
    ahead = Coverage().cover(6, 9)
    assert ahead == Coverage(0, ((6, 9),))
    assert ahead.known == 9
    assert ahead.cover(1, 5) == Coverage(9)


def test_a_range_applied_twice_changes_nothing() -> None:
    once = Coverage().cover(1, 5).cover(8, 9)
    assert once.cover(1, 5) == once
    assert once.cover(8, 9) == once


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(ValueError):
        Coverage().cover(5, 4)


@given(st.permutations(range(10)))
def test_any_arrival_order_ends_with_every_version(order: list[int]) -> None:
    ranges = [(3 * n + 1, 3 * n + 3) for n in range(10)]
    covered = Coverage()
    for n in order:
        covered = covered.cover(*ranges[n])
        assert covered.version <= covered.known
    assert covered == Coverage(30)


def test_only_a_newer_version_replaces_an_item() -> None:
    assert newer(5, None)
    assert newer(5, 4)
    assert not newer(5, 5)
    assert not newer(4, 5)


# Messages cut by bytes ---------------------------------------------------------------------


def _row(version: int, name_bytes: int = 10, deleted: bool = False) -> dict[str, Any]:
    data: dict[str, Any] | None = None
    if not deleted:
        data = {"id": f"p-{version}", "name": "x" * name_bytes, "article": "", "unit": ""}
        data["barcodes"] = []
    return chunks.item_row("product", f"p-{version}", version, data)


def test_messages_stay_under_the_byte_cap_and_cover_every_version() -> None:
    rows = [_row(v, name_bytes=1000) for v in range(1, 101)]
    messages = chunks.messages("", rows, 1, 100, cap=20_000)
    assert len(messages) > 1
    for message in messages:
        assert len(orjson.dumps(message.model_dump(mode="json"))) <= 20_000
    assert messages[0].first == 1 and messages[-1].last == 100
    for before, after in itertools.pairwise(messages):
        assert after.first == before.last + 1
    assert [p.version for m in messages for p in m.products] == list(range(1, 101))


def test_an_item_larger_than_the_cap_goes_alone() -> None:
    rows = [_row(1), _row(2, name_bytes=900), _row(3)]
    messages = chunks.messages("", rows, 1, 3, cap=600)
    assert [[p.id for p in m.products] for m in messages] == [["p-1"], ["p-2"], ["p-3"]]


def test_a_deletion_travels_as_a_tombstone_and_comes_back_as_a_row() -> None:
    (message,) = chunks.messages("Магазин 15", [_row(1), _row(2, deleted=True)], 1, 2)
    assert message.store == "Магазин 15"
    assert [(t.kind, t.id, t.version) for t in message.deleted] == [("product", "p-2", 2)]
    assert chunks.rows_of(message) == [chunks.stored(_row(1)), chunks.stored(_row(2, deleted=True))]


def test_the_payloads_the_owner_emits_are_what_the_message_model_makes_of_them() -> None:
    # Built from checked rows without the model; a copy still validates them against it.
    batch = read_batch(
        {
            "products": [
                {"id": "p-1", "name": "Кефир", "barcodes": [{"barcode": "1", "factor": 12}]},
                {"id": " p-2 ", "name": "Сыр", "barcodes": [{"barcode": "2", "factor": "0.5"}]},
            ],
            "warehouses": [{"id": "wh", "name": "Склад"}],
            "cells": [
                {"id": "c-1", "warehouse": "wh"},
                {"id": "c-2", "warehouse": "wh", "barcode": "C"},
            ],
        }
    )
    rows = [
        chunks.item_row(kind, item["id"], n, item)
        for n, (kind, item) in enumerate(batch.upserts(), start=1)
    ]
    rows.append(chunks.item_row("product", "p-9", len(rows) + 1, None))
    for body in chunks.payloads("Магазин 15", rows, 1, len(rows), cap=600):
        assert CatalogChanged.model_validate(body).model_dump(mode="json") == body


def test_a_copy_reads_a_message_as_plain_json_into_the_rows_the_model_gives() -> None:
    rows = [_row(1), _row(2, deleted=True), _row(3, name_bytes=3)]
    (body,) = chunks.payloads("Магазин 15", rows, 1, 3)
    plain = PlainChanges.model_validate(body)
    assert chunks.rows_of(plain) == chunks.rows_of(CatalogChanged.model_validate(body))
    by_version = sorted(chunks.rows_of(plain), key=lambda r: r["version"])
    assert by_version == [chunks.stored(r) for r in rows]
    assert plain.ordering_key() == CatalogChanged.model_validate(body).ordering_key()


@pytest.mark.parametrize(
    "entries",
    [
        {"products": [{"id": "p-1", "name": "x"}]},
        {"products": [{"id": "p-1", "version": 0}]},
        {"products": [{"id": "", "version": 1}]},
        {"products": [{"version": 1}]},
        {"products": ["p-1"]},
        {"deleted": [{"id": "p-1", "version": 2}]},
        {"deleted": [{"kind": "box", "id": "p-1", "version": 2}]},
    ],
)
def test_a_copy_refuses_an_entry_without_its_id_kind_or_version(entries: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PlainChanges.model_validate({"first": 1, "last": 2, **entries})


def test_rows_stored_before_entries_read_as_the_same_entries() -> None:
    for row in (_row(1), _row(2, deleted=True)):
        older = {**chunks.stored(row), "data": row["data"]}
        del older["entry"]
        assert chunks.entry_of(older) == row["entry"]
        if row["data"] is not None:
            assert chunks.data_of(older) == chunks.data_of(chunks.stored(row)) == row["data"]


def test_a_sync_page_carries_the_stored_entries_as_the_message_carries_them() -> None:
    rows = [_row(1), _row(2, deleted=True), _row(3)]
    page = orjson.loads(orjson.dumps(chunks.page_of([chunks.stored(r) for r in rows])))
    assert page == chunks.body_of(rows)


def test_a_page_may_cover_versions_of_items_changed_again_later() -> None:
    (message,) = chunks.messages("", [_row(7)], 1, 9)
    assert (message.first, message.last) == (1, 9)


# Batches -----------------------------------------------------------------------------------


def _refused(body: object, max_items: int = 100) -> list[dict[str, Any]]:
    with pytest.raises(CatalogInvalid) as caught:
        read_batch(body, max_items)
    return [e.as_json() for e in caught.value.errors]


def test_a_good_batch_is_read_with_exact_factors() -> None:
    batch = read_batch(
        {
            "products": [
                {
                    "id": "p-1",
                    "name": "Кефир",
                    "barcodes": [{"barcode": "1"}, {"barcode": "2", "factor": Decimal("0.25")}],
                }
            ],
            "warehouses": [{"id": "wh", "name": "Склад"}],
            "cells": [{"id": "c", "warehouse": "wh", "barcode": "C1"}],
            "delete": {"products": ["p-9"]},
        }
    )
    assert batch.size == 4
    # Items are kept as their JSON: decimals as exact text.
    assert [b["factor"] for b in batch.products[0]["barcodes"]] == ["1", "0.25"]
    assert batch.deleted["product"] == ["p-9"]


def test_every_wrong_item_is_named_with_its_field() -> None:
    errors = _refused(
        {
            "products": [
                {"id": "p-1", "name": "ok", "barcodes": [{"barcode": "1"}]},
                {"id": "p-2"},
                {"id": "p-3", "name": ["not", "text"]},
                {"id": "p-4", "name": "ok", "barcodes": [{"barcode": "1"}]},
                "not an object",
                {"id": "p-1", "name": "twice"},
                {"id": "p-5", "name": "x", "barcodes": [{"barcode": "9", "factor": 0}]},
            ]
        }
    )
    assert [(e["position"], e["id"], e["field"], e["code"]) for e in errors] == [
        (2, "p-2", "name", "catalog_field_missing"),
        (3, "p-3", "name", "catalog_field_type"),
        (5, None, "", "catalog_not_object"),
        (7, "p-5", "barcodes.0.factor", "catalog_field_invalid"),
        (6, "p-1", "id", "catalog_id_duplicate"),
        (4, "p-4", "barcodes", "catalog_barcode_duplicate"),
    ]


def test_a_cell_and_a_product_cannot_share_a_barcode() -> None:
    errors = _refused(
        {
            "products": [{"id": "p", "name": "x", "barcodes": [{"barcode": "B"}]}],
            "cells": [{"id": "c", "warehouse": "w", "barcode": "B"}],
        }
    )
    assert [(e["kind"], e["code"], e["params"]) for e in errors] == [
        ("cell", "catalog_barcode_duplicate", {"barcode": "B", "other": "p"})
    ]


def test_limits_on_items_and_barcodes() -> None:
    too_many = _refused({"products": [{"id": str(n), "name": "x"} for n in range(3)]}, 2)
    assert [e["code"] for e in too_many] == ["catalog_too_many_items"]
    codes = [{"barcode": str(n)} for n in range(101)]
    errors = _refused({"products": [{"id": "p", "name": "x", "barcodes": codes}]})
    assert [(e["code"], e["params"]) for e in errors] == [
        ("catalog_too_many_barcodes", {"limit": 100})
    ]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ([], "", "catalog_not_object"),
        ({"products": {"id": "p"}}, "products", "catalog_not_list"),
        ({"store": 15}, "store", "catalog_field_type"),
        ({"delete": ["p-1"]}, "delete", "catalog_not_object"),
        ({"delete": {"products": [""]}}, "delete.products", "catalog_bad_delete"),
        ({"products": [{"id": "a\x1fb", "name": "x"}]}, "id", "catalog_field_invalid"),
    ],
)
def test_a_wrong_shape_is_named(body: object, field: str, code: str) -> None:
    assert [(e["field"], e["code"]) for e in _refused(body)] == [(field, code)]


def test_messages_are_russian_by_default_and_english_when_asked() -> None:
    errors = _refused({"products": [{"id": "p-1", "name": "x", "barcodes": [{"barcode": ""}]}]})
    (ru,) = rendered(errors, "ru")
    (en,) = rendered(errors, "en")
    assert ru["message"] == (
        "Товар №1 (p-1): неверное значение поля «Штрихкоды[1].Штрихкод» (минимум символов: 1)."
    )
    assert en["message"] == (
        "Product #1 (p-1): the field “barcodes[1].barcode” is invalid "
        "(String should have at least 1 character)."
    )


def test_field_labels() -> None:
    assert field_label("barcodes.0.factor", "ru") == "Штрихкоды[1].Коэффициент"
    assert field_label("barcodes.2", "en") == "barcodes[3]"
    assert field_label("", "ru") == ""


# 1C exports --------------------------------------------------------------------------------


def test_a_structure_with_russian_keys_and_a_bom() -> None:
    export = {
        "ТорговыйОбъект": "Магазин 15",
        "Товары": [
            {
                "Ссылка": "g-1",
                "Код": "00001",
                "Наименование": "Кефир",
                "ЕдиницаИзмерения": {"Ссылка": "u-1", "Наименование": "шт"},
                "Штрихкоды": ["460", {"Штрихкод": "146", "Коэффициент": 12, "Серия": "S1"}],
                "НеизвестноеПоле": "ignored",
            }
        ],
        "Склады": [{"Ссылка": "wh", "Наименование": "Склад"}],
        "Ячейки": [{"Ссылка": "c", "Склад": {"Ссылка": "wh", "Наименование": "Склад"}}],
        "Удалить": {"Товары": ["g-9"]},
    }
    text = "\ufeff" + json.dumps(export, ensure_ascii=False)
    native = read_catalog_json(text.encode())
    assert native == {
        "store": "Магазин 15",
        "products": [
            {
                "id": "g-1",
                "name": "Кефир",
                "unit": "шт",
                "barcodes": [{"barcode": "460"}, {"barcode": "146", "factor": 12, "series": "S1"}],
            }
        ],
        "warehouses": [{"id": "wh", "name": "Склад"}],
        "cells": [{"id": "c", "warehouse": "wh"}],
        "delete": {"products": ["g-9"]},
    }
    assert read_batch(native).size == 4


def test_an_array_of_products_and_xdto_objects_with_deletion_marks() -> None:
    assert read_catalog_json('[{"Ссылка": "a", "Наименование": "A"}]') == {
        "products": [{"id": "a", "name": "A"}],
        "warehouses": [],
        "cells": [],
    }
    xdto = {
        "#type": "jv8:Array",
        "#value": [
            {
                "#type": "jcfg:CatalogObject.Номенклатура",
                "#value": {"Ref": "a", "Description": "A", "DeletionMark": False},
            },
            {
                "#type": "jcfg:CatalogObject.Склады",
                "#value": {"Ref": "w", "Description": "W", "DeletionMark": True},
            },
        ],
    }
    native = read_catalog_json(json.dumps(xdto))
    assert native["products"] == [{"id": "a", "name": "A"}]
    assert native["delete"] == {"products": [], "warehouses": ["w"], "cells": []}


def test_numbers_stay_exact_and_broken_json_is_refused() -> None:
    native = read_catalog_json('{"products": [{"barcodes": [{"factor": 0.1}]}]}')
    assert native["products"][0]["barcodes"][0]["factor"] == Decimal("0.1")
    with pytest.raises(OneCImportError) as caught:
        read_catalog_json(b'{"products": [')
    assert caught.value.code == "onec_not_json"
