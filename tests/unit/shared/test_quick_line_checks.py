"""The quick paths of the checks every line of a document passes (the quantity rule, the depth
of ``extra``, the wire-format check) give exactly what the full checks give: the same value,
or the same refusal with the same words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from services.gateway.wire import first_unportable, portable_problem
from shared.contracts.documents import EXTRA_MAX_DEPTH, _depth, _shallow
from shared.contracts.quantity import _checked_quantity, to_quantity

_QUANTITY_TEXT = st.text(alphabet="0123456789.+- \t\u00a0eE", max_size=30)
_QUANTITIES = st.one_of(
    _QUANTITY_TEXT,
    st.from_regex(r"\A[0-9]{1,17}(\.[0-9]{0,8})?\Z"),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.sampled_from([10**15 - 1, 10**15, -1, 0, True, False, None, 1.5, "-0", "0.0000000"]),
    st.decimals(allow_nan=True, allow_infinity=True),
)


def _outcome(check: Any, value: object) -> tuple[str, str]:
    try:
        kept = check(value)
    except PydanticCustomError as refused:
        return "refused", f"{refused.type}: {refused.message()}"
    return "kept", f"{type(kept).__name__} {kept!r}"


@settings(max_examples=2000, deadline=None)
@given(_QUANTITIES)
def test_a_quantity_is_read_as_the_full_rule_reads_it(value: object) -> None:
    assert _outcome(to_quantity, value) == _outcome(_checked_quantity, value)


@pytest.mark.parametrize("plain", ["12.5", "0", "0.000000", "999999999999999.999999", "7.", 12])
def test_plain_quantities_take_the_quick_path_and_keep_their_digits(plain: object) -> None:
    assert str(to_quantity(plain)) == str(_checked_quantity(plain))


def _json(leaves: st.SearchStrategy[Any], depth: int) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=depth,
    )


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


_EXTRAS = st.one_of(
    st.dictionaries(st.text(max_size=3), _json(st.integers() | st.text(max_size=3), 8)),
    st.integers(min_value=EXTRA_MAX_DEPTH - 2, max_value=EXTRA_MAX_DEPTH + 2).map(_nested),
    st.integers(min_value=EXTRA_MAX_DEPTH - 2, max_value=EXTRA_MAX_DEPTH + 2).map(
        lambda n: {"flat": 1, "deep": [_nested(n - 2)]}
    ),
)


@settings(max_examples=500, deadline=None)
@given(_EXTRAS)
def test_extra_is_refused_exactly_when_it_nests_too_deep(extra: dict[str, Any]) -> None:
    if _depth(extra) > EXTRA_MAX_DEPTH:
        with pytest.raises(ValueError, match=f"nested deeper than {EXTRA_MAX_DEPTH} levels"):
            _shallow(extra)
    else:
        assert _shallow(extra) is extra


_WIRE_LEAVES = st.one_of(
    st.integers(min_value=-(2**65), max_value=2**65),
    st.sampled_from([2**64, 2**64 - 1, -(2**63), -(2**63) - 1, "\ud800", "a\udfffb", 1.5, None]),
    st.text(max_size=4),
    st.booleans(),
)


@settings(max_examples=1000, deadline=None)
@given(
    st.recursive(
        _WIRE_LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.text(max_size=2) | st.just("\udc00"), inner, max_size=3),
        ),
        max_leaves=12,
    )
)
def test_the_wire_check_names_what_the_walk_names(value: Any) -> None:
    assert portable_problem(value) == first_unportable(value)


def test_a_decimal_quantity_still_goes_through_the_whole_rule() -> None:
    assert to_quantity(Decimal("1.50000000")) == Decimal("1.500000")
