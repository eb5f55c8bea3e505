"""Quiet requests are summed up in one line per name and interval."""

from __future__ import annotations

from structlog.testing import capture_logs

from shared.request_summary import Summaries, is_quiet, quiet


def test_one_line_per_name_with_the_counts_by_outcome() -> None:
    summaries = Summaries()
    for _ in range(5):
        summaries.count("poll", "empty")
    summaries.count("poll", "news")
    with capture_logs() as lines:
        summaries.flush()
        summaries.flush()  # nothing counted since: no line
    [line] = lines
    assert line["event"] == "poll.summary"
    assert (line["empty"], line["news"], line["total"]) == (5, 1, 6)


def test_a_request_is_quiet_only_when_marked() -> None:
    scope: dict[str, object] = {}
    assert not is_quiet(scope)
    quiet(scope)
    assert is_quiet(scope)
