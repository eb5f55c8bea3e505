"""Which failed MongoDB batches the adapter reports as taken keys (shared/storage/mongo.py):
only those whose every write error is a duplicate key; the others keep their own mapping (a
transient one is retried with its transaction, the rest are storage errors). No database."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from shared.storage.mongo import TRANSIENT, only_duplicate_keys


def _failed_batch(*codes: int, **details: Any) -> BulkWriteError:
    write_errors = [
        {"index": i, "code": code, "errmsg": f"e{code}"} for i, code in enumerate(codes)
    ]
    return BulkWriteError({"writeErrors": write_errors, **details})


def test_a_batch_failing_on_taken_keys_alone_is_a_duplicate_key() -> None:
    assert only_duplicate_keys(_failed_batch(11000))
    assert only_duplicate_keys(_failed_batch(11000, 11000))


@pytest.mark.parametrize(
    "codes",
    [
        (121,),  # document failed validation
        (10334,),  # document too large
        (11000, 121),  # a taken key, and a validation error besides
        (),  # no write error at all (a write concern error alone)
    ],
)
def test_a_batch_failing_for_another_reason_is_not_a_duplicate_key(codes: tuple[int, ...]) -> None:
    assert not only_duplicate_keys(_failed_batch(*codes, writeConcernErrors=[{"code": 64}]))


def test_a_transient_transaction_error_is_left_for_the_transaction_retry() -> None:
    transient = _failed_batch(11000, errorLabels=[TRANSIENT])
    assert transient.has_error_label(TRANSIENT)
    assert not only_duplicate_keys(transient)
