"""The quick check of plain products never disagrees with the product model: what it accepts,
the model accepts with the very same data; what it is unsure of, it leaves to the model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.catalog.batch import CatalogInvalid, read_batch
from shared.catalog.plain_products import product_data
from shared.contracts.catalog import CatalogProduct

# Text near every edge the model has: spaces to trim, separators, lengths around the limits.
# Lone surrogates too: JSON may escape one ("\ud800").
_EDGY = st.sampled_from(
    ["", " ", "a", " a", "a ", "\x1f", "a\x1fb", "\x00", "\x1c", "\xa0x", "x\u2003", "\x1d01"]
)
_SURROGATES = st.sampled_from(["я\ud800", "\udfff", "a\ud83d\ude00"])
_TEXT = st.one_of(
    _EDGY,
    _SURROGATES,
    st.text(max_size=5),
    st.integers(1, 1001).map(lambda n: "я" * n),
    st.none(),
    st.integers(),
    st.booleans(),
)
_FACTOR = st.one_of(
    st.integers(-2, 3),
    st.sampled_from([10**12 - 1, 10**12, 10**17, True, False, None, "12", "0.5", 1.5]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, or the key left out (a sentinel the builder drops)."""
    return st.one_of(st.just(...), strategy)


@st.composite
def _raw_barcode(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.text(max_size=3), st.none(), st.integers()))
    fields = {
        "barcode": draw(_TEXT),
        "factor": draw(_maybe(_FACTOR)),
        "characteristic": draw(_maybe(_TEXT)),
        "series": draw(_maybe(_TEXT)),
    }
    if draw(st.integers(0, 20)) == 0:
        fields["extra"] = "x"
    return {k: v for k, v in fields.items() if v is not ...}


@st.composite
def _raw_product(draw: st.DrawFn) -> Any:
    barcodes = draw(
        st.one_of(
            st.lists(_raw_barcode(), max_size=3),
            st.just([{"barcode": str(n)} for n in range(101)]),
            st.none(),
            st.text(max_size=2),
        )
    )
    fields = {
        "id": draw(_TEXT),
        "name": draw(_TEXT),
        "article": draw(_maybe(_TEXT)),
        "unit": draw(_maybe(_TEXT)),
        "barcodes": draw(_maybe(st.just(barcodes))),
    }
    if draw(st.integers(0, 20)) == 0:
        fields["price"] = 1
    return {k: v for k, v in fields.items() if v is not ...}


def _by_model(raw: Any) -> dict[str, Any] | None:
    try:
        return CatalogProduct.model_validate(raw).model_dump(mode="json")
    except ValidationError:
        return None


@settings(max_examples=600, deadline=None)
@given(_raw_product())
def test_what_the_quick_check_accepts_the_model_accepts_the_same(raw: Any) -> None:
    quick = product_data(raw)
    if quick is not None:
        assert quick == _by_model(raw)


def test_a_plain_product_is_taken_by_the_quick_check() -> None:
    raw = {
        "id": "p-1",
        "name": "Кефир 2,5%",
        "barcodes": [{"barcode": "4601"}, {"barcode": "14601", "factor": 12}],
    }
    assert product_data(raw) == {
        "id": "p-1",
        "name": "Кефир 2,5%",
        "article": "",
        "unit": "",
        "barcodes": [
            {"barcode": "4601", "factor": "1", "characteristic": "", "series": ""},
            {"barcode": "14601", "factor": "12", "characteristic": "", "series": ""},
        ],
    }


def test_what_the_quick_check_is_unsure_of_the_model_reads() -> None:
    # Trimmed, a null left out, an exact decimal factor: the model's reading, as before.
    batch = read_batch(
        {
            "products": [
                {
                    "id": " p-1 ",
                    "name": "Кефир",
                    "unit": None,
                    "barcodes": [{"barcode": "1", "factor": Decimal("0.25")}],
                }
            ]
        }
    )
    assert batch.products[0]["id"] == "p-1"
    assert batch.products[0]["unit"] == ""
    assert batch.products[0]["barcodes"][0]["factor"] == "0.25"


def test_a_lone_surrogate_is_left_to_the_model_which_refuses_it() -> None:
    # JSON may escape one ("\ud800"); no store or message can hold it.
    assert product_data({"id": "p-1", "name": "Кефир\ud800"}) is None
    assert product_data({"id": "p-1", "name": "ok", "barcodes": [{"barcode": "1\udfff"}]}) is None
    assert _by_model({"id": "p-1", "name": "Кефир\ud800"}) is None


def test_a_wrong_product_is_still_named_by_the_model() -> None:
    raw = {"id": "p-1", "name": "Кефир", "barcodes": [{"barcode": "1", "factor": 0}]}
    assert product_data(raw) is None
    try:
        read_batch({"products": [raw]})
    except CatalogInvalid as exc:
        assert [(e.path, e.code) for e in exc.errors] == [
            ("barcodes.0.factor", "catalog_field_invalid")
        ]
    else:
        raise AssertionError("a factor of 0 was accepted")
