"""The quick check of plain document lines never disagrees with the line model: what it
accepts, the model accepts with the very same JSON; what it is unsure of, it leaves to the
model. A checked line written compact is read back into the same line."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.contracts.documents import DocumentLine
from shared.contracts.plain_lines import compact_line, plain_line

# Text near every edge the model has: spaces to trim, lengths around the limits, surrogates.
_TEXT = st.one_of(
    st.sampled_from(["", " ", "a", " a", "a ", "\x1c", "\xa0x", "x\u2003", "я\ud800", "\udfff"]),
    st.text(max_size=5),
    st.integers(40, 1001).map(lambda n: "я" * n),
    st.none(),
    st.integers(),
    st.booleans(),
)
_QUANTITY = st.one_of(
    st.sampled_from(["0", "0.0", "00", "1.", ".5", "+1", "-1", " 1", "1e3", "0.1234567"]),
    st.from_regex(r"\A[0-9]{1,17}(\.[0-9]{0,8})?\Z"),
    st.integers(-2, 10**16),
    st.sampled_from([10**15 - 1, 10**15, True, None, 1.5]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)
_EXTRA = st.one_of(
    st.dictionaries(st.text(max_size=3), st.one_of(_TEXT, st.floats(), st.lists(st.integers()))),
    st.just({"a": {"b": [1]}}),
    st.none(),
    st.text(max_size=2),
)
_EXPIRY = st.one_of(
    st.sampled_from(["", "2027-03-31", "2027-3-31", "2027-03-31\n", " 2027-03-31", "20270331"]),
    _TEXT,
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, or the key left out (a sentinel the builder drops)."""
    return st.one_of(st.just(...), strategy)


@st.composite
def _raw_line(draw: st.DrawFn) -> Any:
    fields = {
        "line_no": draw(st.one_of(st.integers(-1, 3), st.sampled_from([True, "1", 1.0, None]))),
        "product_id": draw(_maybe(_TEXT)),
        "name": draw(_maybe(_TEXT)),
        "article": draw(_maybe(_TEXT)),
        "unit": draw(_maybe(_TEXT)),
        "barcodes": draw(
            _maybe(
                st.one_of(
                    st.lists(_TEXT, max_size=3),
                    st.just([str(n) for n in range(101)]),
                    st.none(),
                    st.text(max_size=2),
                )
            )
        ),
        "planned_qty": draw(_maybe(_QUANTITY)),
        "extra": draw(_maybe(_EXTRA)),
        "characteristic": draw(_maybe(_TEXT)),
        "series": draw(_maybe(_TEXT)),
        "expiry": draw(_maybe(_EXPIRY)),
        "cell": draw(_maybe(_TEXT)),
    }
    if draw(st.integers(0, 20)) == 0:
        fields["price"] = 1
    return {k: v for k, v in fields.items() if v is not ...}


def _by_model(raw: Any) -> dict[str, Any] | None:
    try:
        return DocumentLine.model_validate(raw).model_dump(mode="json")
    except ValidationError:
        return None


@settings(max_examples=3000, deadline=None)
@given(_raw_line())
def test_a_plain_line_is_what_the_model_makes_of_it(raw: Any) -> None:
    quick = plain_line(raw)
    if quick is not None:
        assert quick == _by_model(raw)
        assert list(quick) == list(DocumentLine.model_fields)  # in the model's order too
        assert _by_model(compact_line(quick)) == quick


def test_a_usual_line_is_plain_and_written_compact() -> None:
    raw = {"line_no": 1, "product_id": "p-1", "name": "Молоко", "planned_qty": "2.5"}
    line = plain_line(raw)
    assert line == _by_model(raw)
    assert line is not None and compact_line(line) == raw


def test_what_the_quick_check_is_unsure_of_is_left_to_the_model() -> None:
    unsure: list[Any] = [
        {"line_no": 1, "product_id": " p"},  # to trim
        {"line_no": 1, "product_id": "p", "planned_qty": "007"},  # to rewrite
        {"line_no": 1, "product_id": "p", "extra": {"a": [1]}},  # nested
        {"line_no": 1, "product_id": "p", "unit": None},  # null means absent
        {"line_no": 0, "product_id": "p"},  # refused
    ]
    assert [plain_line(raw) for raw in unsure] == [None] * len(unsure)
