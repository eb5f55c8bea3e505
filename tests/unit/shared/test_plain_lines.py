"""The quick check of plain document lines never disagrees with the line model: what it
accepts, the model accepts with the very same JSON; what it is unsure of, it leaves to the
model. A checked line written compact is read back into the same line."""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import Document, DocumentLine
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


# Values a plain line has: trimmed text, quantities in full, a flat extra.
_PLAIN_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=6).filter(
    lambda text: text == text.strip()
)
_PLAIN = {
    "product_id": _PLAIN_TEXT.filter(bool),
    "name": _PLAIN_TEXT,
    "article": _PLAIN_TEXT,
    "unit": _PLAIN_TEXT,
    "barcodes": st.lists(_PLAIN_TEXT, max_size=3),
    "planned_qty": st.one_of(
        st.from_regex(r"\A(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?\Z"), st.integers(0, 10**15 - 1)
    ),
    "extra": st.dictionaries(
        st.text(max_size=3),
        st.one_of(_PLAIN_TEXT, st.integers(-(10**20), 10**20), st.booleans()),
        max_size=3,
    ),
    "characteristic": _PLAIN_TEXT,
    "series": _PLAIN_TEXT,
    "expiry": st.sampled_from(["", "2027-03-31"]),
    "cell": _PLAIN_TEXT,
}
# Values near every edge the model has, for any field.
_SPOILT = {
    **dict.fromkeys(
        ("product_id", "name", "article", "unit", "characteristic", "series", "cell"), _TEXT
    ),
    "barcodes": st.one_of(
        st.lists(_TEXT, max_size=3),
        st.just([str(n) for n in range(101)]),
        st.none(),
        st.text(max_size=2),
    ),
    "planned_qty": _QUANTITY,
    "extra": _EXTRA,
    "expiry": _EXPIRY,
    "line_no": st.sampled_from([-1, 0, True, "1", 1.0, None]),
    "price": st.just(1),
}


@st.composite
def _raw_line(draw: st.DrawFn) -> Any:
    """A plain line, some of its fields left out, a few of them (or none) spoilt."""
    fields: dict[str, Any] = {"line_no": draw(st.integers(1, 10**6))}
    for name, values in _PLAIN.items():
        if name == "product_id" or draw(st.booleans()):
            fields[name] = draw(values)
    for name in draw(st.lists(st.sampled_from(sorted(_SPOILT)), max_size=2, unique=True)):
        fields[name] = draw(_SPOILT[name])
    if draw(st.integers(0, 20)) == 0:
        del fields["product_id"]
    return fields


def _by_model(raw: Any) -> dict[str, Any] | None:
    try:
        return DocumentLine.model_validate(raw).model_dump(mode="json")
    except ValidationError:
        return None


@settings(max_examples=3000, deadline=None)
@given(_raw_line())
def test_a_plain_line_is_what_the_model_makes_of_it(raw: Any) -> None:
    quick = plain_line(raw)
    event("plain" if quick is not None else "left to the model")
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


_HEADER = {"accounting_type": "Заказ", "id": "doc-1"}
_PLAIN_LINES = [{"line_no": n, "product_id": f"p-{n}", "planned_qty": "2"} for n in (1, 2, 3)]


def _errors(model: type[Document] | type[CarriedDocument], raw: Any) -> list[Any]:
    try:
        model.model_validate(raw)
    except ValidationError as refused:
        return refused.errors(include_url=False)
    raise AssertionError("accepted")


def test_a_wrong_line_among_plain_ones_gets_the_models_own_errors_at_its_place() -> None:
    lines = [*_PLAIN_LINES, {"line_no": 4, "product_id": " p ", "planned_qty": "-1"}]
    raw = {"header": _HEADER, "lines": lines}
    assert _errors(CarriedDocument, raw) == _errors(Document, raw)
    assert [e["loc"] for e in _errors(CarriedDocument, raw)] == [("lines", 3, "planned_qty")]


def test_a_carried_document_is_the_models_json_and_reads_back_from_its_compact_form() -> None:
    raw = {"header": _HEADER, "lines": [*_PLAIN_LINES, {"line_no": 4, "product_id": " p "}]}
    carried = CarriedDocument.model_validate(raw)
    assert carried.as_json() == Document.model_validate(raw).model_dump(mode="json")
    assert CarriedDocument.model_validate(carried.as_json(compact=True)) == carried
    assert CarriedDocument.model_validate(Document.model_validate(raw)) == carried
