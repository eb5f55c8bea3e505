"""What an index declaration allows: the stores disagree on what a sparse index covers when a
field is stored as null, so a sparse index may not also be unique."""

from __future__ import annotations

import pytest

from shared.storage import Index


def test_a_sparse_index_cannot_be_unique() -> None:
    with pytest.raises(ValueError, match=r"index on device\.pin: a sparse index cannot be unique"):
        Index(("device.pin",), unique=True, sparse=True)


def test_a_sparse_index_and_a_unique_one_are_each_declared_as_before() -> None:
    assert Index(("number",), sparse=True).name == "ix_s_number"
    assert Index(("number",), unique=True).name == "ix_u_number"
