from shared.applied_pruning import old_ids

CUTOFF = "2026-11-07T04:00:00+00:00"


def test_rows_applied_before_the_cutoff_are_old_and_one_without_its_time_too() -> None:
    rows: list[dict[str, object]] = [
        {"id": "a", "at": "2026-11-07T03:59:59.999999+00:00"},
        {"id": "b", "at": CUTOFF},
        {"id": "c", "at": "2026-12-01T00:00:00+00:00"},
        {"id": "d"},
    ]
    assert old_ids(rows, CUTOFF) == ["a", "d"]
