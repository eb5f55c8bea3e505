"""The collector held off while batches are worked through, and a service's start-up objects
kept out of its sight."""

from __future__ import annotations

import gc

from shared.collector import collector_held, freeze_start_up


def test_holds_overlap_and_the_collector_comes_back_after_the_last() -> None:
    assert gc.isenabled()
    with collector_held():
        with collector_held():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_start_up_objects_are_frozen_out_of_later_collections() -> None:
    kept = [[n] for n in range(1000)]
    try:
        freeze_start_up()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
