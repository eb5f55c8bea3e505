"""``decode`` reads a body with orjson first and exactly only where that matters: a number
with a fraction where the message is validated is read exactly, and a message refused is
refused for the reason the exact reading gives."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict

from shared.contracts import MalformedMessage, Payload, decode, encode, envelope, wrap
from shared.contracts.documents import Target
from shared.contracts.uploads import DocumentRouted, UploadDecided
from shared.jsonexact import NestedTooDeeply, has_fraction, loads_exact, loads_plain


class DecisionOnly(Payload):
    model_config = ConfigDict(extra="ignore")

    TYPE = DocumentRouted.TYPE
    VERSION = DocumentRouted.VERSION

    decided: UploadDecided | None = None


VIEWS: dict[tuple[str, int], type[Payload]] = {
    (DecisionOnly.TYPE, DecisionOnly.VERSION): DecisionOnly
}


def _decided(**params: Any) -> UploadDecided:
    return UploadDecided(
        request_id="r-1",
        process="p",
        channel="internet",
        target=Target(kind="device", value="dev-1"),
        outcome="refused",
        code="c",
        params=params,
        requested_at=datetime.now(UTC),
    )


def _body(payload: dict[str, Any], **envelope: Any) -> bytes:
    body = orjson.loads(encode(wrap(_decided(), "t1")))
    body.update(envelope)
    body["payload"] = payload
    return orjson.dumps(body).replace(b'"FRACTION"', b"1.10")


def test_a_fraction_where_the_message_is_read_stays_exact() -> None:
    payload = {**_decided().as_json(), "params": {"limit": "FRACTION"}}
    _, decided = decode(_body(payload))
    assert isinstance(decided, UploadDecided)
    limit = decided.params["limit"]
    assert isinstance(limit, Decimal) and str(limit) == "1.10"


def test_a_fraction_a_view_never_reads_does_not_matter_and_one_it_reads_stays_exact() -> None:
    routed: dict[str, Any] = {"decided": {**_decided().as_json(), "params": {"limit": "FRACTION"}}}
    routed["documents"] = [{"lines": [{"planned_qty": "FRACTION"}]}]
    _, view = decode(_body(routed, type=DocumentRouted.TYPE, version=2), VIEWS)
    assert isinstance(view, DecisionOnly) and view.decided is not None
    assert view.decided.params["limit"] == Decimal("1.10")
    assert isinstance(view.decided.params["limit"], Decimal)


def _with(raw_text: str, **changes: Any) -> bytes:
    """A message of ``_decided`` with fields replaced by the JSON text ``raw_text``."""
    body = orjson.loads(encode(wrap(_decided(), "t1")))
    for name in changes:
        if name == "payload_field":
            body["payload"][changes[name]] = "RAW"
        else:
            body[name] = "RAW"
    return orjson.dumps(body).replace(b'"RAW"', raw_text.encode())


MALFORMED = [
    b"not json",
    b"[1.5]",
    b'"\\ud800"',  # orjson refuses a lone surrogate; the exact reader reads it
    b'{"id": "x", "version": 1.5',
    _with("1.5", version=True),
    _with("18446744073709551616", version=True),  # beyond 64 bits: orjson reads a float
    _with("1.5", payload_field="request_id"),
    _with("[1.25, 2]", payload_field="deliveries"),
    # Deeper than the exact reader goes, not than orjson does: validated, so refused as before.
    _with("[" * 1_000 + "]" * 1_000, payload_field="params"),
]


def _reason(body: bytes) -> str:
    with pytest.raises(MalformedMessage) as refused:
        decode(body)
    return str(refused.value)


@pytest.mark.parametrize("body", MALFORMED)
def test_refusals_say_what_the_exact_reading_alone_says(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_first = _reason(body)
    monkeypatch.setattr(envelope, "loads_plain", lambda body: None)  # the exact reading only
    assert plain_first == _reason(body)


def test_has_fraction_finds_a_float_at_any_depth_and_nothing_else() -> None:
    assert has_fraction([{"a": [1, "2.5", {"b": 2.5}]}])
    assert not has_fraction([{"a": [1, "2.5", {"b": True, "c": None}]}])
    assert has_fraction(loads_plain(b"[18446744073709551616]") or [])  # beyond 64 bits
    assert loads_plain(b"not json") is None


def test_has_fraction_finds_the_kinds_it_is_given() -> None:
    exact = [{"a": [1, {"b": Decimal("2.5")}]}]
    assert not has_fraction(exact)  # a float only, by default
    assert has_fraction(exact, frozenset({Decimal, float}))
    assert has_fraction([[1e400]], frozenset({Decimal, float}))
    assert not has_fraction([{"a": [1, "2.5", None]}], frozenset({Decimal, float}))


def _any_float(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_any_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_any_float(item) for item in value)
    return type(value) is float


_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=2), st.floats()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_JSON, max_size=4))
def test_has_fraction_says_what_a_walk_of_every_value_says(values: list[Any]) -> None:
    assert has_fraction(values) == _any_float(values)
    assert has_fraction(iter(values)) == _any_float(values)  # values given once, as decode does


def _routed_nested(levels: int) -> bytes:
    """A routed message whose documents are lists nested ``levels`` deep."""
    nested = "[" * levels + "]" * levels
    body = _body({"decided": None, "documents": "DEEP"}, type=DocumentRouted.TYPE, version=2)
    return body.replace(b'"DEEP"', nested.encode())


def test_nesting_only_a_view_ignores_is_read_up_to_orjsons_limit() -> None:
    # Both nest deeper than the exact reader goes, the first within orjson's 1,024 levels:
    # decode's docstring says why the view reads it (it looks at nothing it ignores).
    within, beyond = _routed_nested(1_000), _routed_nested(1_030)
    with pytest.raises(NestedTooDeeply):
        loads_exact(within)
    _, view = decode(within, VIEWS)
    assert isinstance(view, DecisionOnly) and view.decided is None
    with pytest.raises(MalformedMessage, match="nested too deeply"):
        decode(within)  # the registered model validates the documents
    with pytest.raises(MalformedMessage, match="nested too deeply"):
        decode(beyond, VIEWS)
