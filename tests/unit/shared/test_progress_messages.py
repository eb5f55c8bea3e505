"""A copy's progress reads alike in its single form (``delivery.progressed``) and as one copy of
several (``deliveries.progressed``): the same ids, the same states, the same refusals."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from shared.contracts.results import (
    DeliveriesProgressed,
    DeliveryProgressed,
    DeliveryProgressedV1,
    ProgressedCopy,
    ProgressState,
)


def _both(copy: dict[str, Any]) -> tuple[DeliveryProgressed, DeliveryProgressed]:
    single = DeliveryProgressed.model_validate({**copy, "channel": "internet", "by": "dev-1"})
    [together] = DeliveriesProgressed.model_validate(
        {"channel": "internet", "by": "dev-1", "copies": [copy]}
    ).single()
    return single, together


@pytest.mark.parametrize("delivery_id", ["c-1", " c-1", "c-1 ", "\tc-1\n"])
def test_a_delivery_id_reads_alike_in_both_messages(delivery_id: str) -> None:
    single, together = _both({"delivery_id": delivery_id, "state": "downloaded"})
    assert together == single
    assert together.delivery_id == delivery_id  # as the copy was named: nothing stripped


@pytest.mark.parametrize(
    "copy",
    [
        {"delivery_id": "c-1", "state": "done"},
        {"delivery_id": "", "state": "downloaded"},
        {"delivery_id": "c-1", "state": "downloaded", "note": "unknown field"},
    ],
)
def test_what_the_single_form_refuses_one_copy_of_several_refuses_too(
    copy: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        DeliveryProgressed.model_validate({**copy, "channel": "internet"})
    with pytest.raises(ValidationError):
        ProgressedCopy.model_validate(copy)


def test_the_progress_states_are_one_list() -> None:
    states = set(get_args(ProgressState))
    assert states == {"downloaded", "in_progress", "released", "delivered"}
    for model in (DeliveryProgressed, DeliveryProgressedV1, ProgressedCopy):
        assert set(get_args(model.model_fields["state"].annotation)) == states
