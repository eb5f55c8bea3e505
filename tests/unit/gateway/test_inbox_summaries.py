"""The poll answers a gateway instance holds: what a read may keep, what is forgotten, and the
bounds on age and size (no I/O: a clock of the test's own)."""

from __future__ import annotations

import os

import orjson
import pytest
from pydantic import ValidationError

from services.gateway.inbox_summaries import MAX_HELD_BYTES, HeldAnswer, InboxSummaries, News
from shared.settings import Settings
from tests.support.clock import Clock


def _summaries(size: int = 10, max_age: float = 60.0) -> tuple[InboxSummaries[str], Clock]:
    clock = Clock()
    return InboxSummaries(size, max_age, clock), clock


def _keep(summaries: InboxSummaries[str], device: str, view: str) -> bool:
    return summaries.keep(device, summaries.reading(), view)


def test_a_kept_view_is_answered_for_its_device_only() -> None:
    summaries, _ = _summaries()
    assert summaries.get("d1") is None
    assert _keep(summaries, "d1", "two documents")
    assert summaries.get("d1") == "two documents"
    assert summaries.get("d2") is None


def test_a_forgotten_device_is_read_again() -> None:
    summaries, _ = _summaries()
    _keep(summaries, "d1", "old")
    _keep(summaries, "d2", "other")
    summaries.forget("d1")
    assert summaries.get("d1") is None
    assert summaries.get("d2") == "other"


def test_a_read_that_raced_a_change_of_its_device_is_not_kept() -> None:
    summaries, _ = _summaries()
    read_from = summaries.reading()  # the store read begins ...
    summaries.forget("d1")  # ... a change is committed and told meanwhile ...
    assert not summaries.keep("d1", read_from, "maybe before the change")
    assert summaries.get("d1") is None
    # The next read, begun after the change, is kept.
    assert _keep(summaries, "d1", "after the change")
    assert summaries.get("d1") == "after the change"


def test_a_change_of_another_device_does_not_stop_a_read_from_being_kept() -> None:
    summaries, _ = _summaries()
    read_from = summaries.reading()
    summaries.forget("d2")
    assert summaries.keep("d1", read_from, "d1's inbox")


def test_forgetting_everything_drops_what_is_held_and_every_read_in_flight() -> None:
    summaries, _ = _summaries()
    _keep(summaries, "d1", "one")
    read_from = summaries.reading()
    summaries.forget_all()
    assert summaries.get("d1") is None
    assert len(summaries) == 0
    assert not summaries.keep("d2", read_from, "read before")
    assert _keep(summaries, "d2", "read after")


def test_a_read_is_refused_after_a_change_whose_record_was_dropped_for_space() -> None:
    summaries, _ = _summaries(size=2)
    read_from = summaries.reading()
    summaries.forget("d1")
    for device in ("d2", "d3", "d4"):  # more changes than records of changes are kept
        summaries.forget(device)
    assert not summaries.keep("d1", read_from, "maybe before d1's change")
    assert _keep(summaries, "d1", "after")


def test_a_view_older_than_the_age_bound_is_read_again() -> None:
    summaries, clock = _summaries(max_age=60)
    _keep(summaries, "d1", "kept at 1000")
    clock.now += 60
    assert summaries.get("d1") == "kept at 1000"
    clock.now += 0.5
    assert summaries.get("d1") is None
    assert len(summaries) == 0


def test_too_old_views_are_dropped_as_new_ones_are_kept() -> None:
    summaries, clock = _summaries(max_age=60)
    _keep(summaries, "d1", "old")
    _keep(summaries, "d2", "old")
    clock.now += 61
    _keep(summaries, "d3", "new")
    assert len(summaries) == 1  # their memory goes without a read of theirs


def test_at_most_size_views_are_held_the_one_kept_longest_ago_dropped_first() -> None:
    summaries, _ = _summaries(size=2)
    _keep(summaries, "d1", "first")
    _keep(summaries, "d2", "second")
    _keep(summaries, "d1", "first, read again")
    _keep(summaries, "d3", "third")
    assert len(summaries) == 2
    assert summaries.get("d2") is None
    assert summaries.get("d1") == "first, read again"
    assert summaries.get("d3") == "third"


def test_size_zero_holds_nothing() -> None:
    summaries, _ = _summaries(size=0)
    assert not _keep(summaries, "d1", "anything")
    assert summaries.get("d1") is None
    summaries.forget("d1")  # and forgetting costs nothing held
    assert len(summaries) == 0


def test_an_answer_in_one_language_serves_another_only_when_nothing_in_it_is_translated() -> None:
    news = News(open=1, unacknowledged=False, withdrawn=False)
    plain = HeldAnswer.of(news, b"{}", None)
    refused = HeldAnswer.of(news, b"{}", "ru")
    assert plain.answers_in("en") and plain.answers_in("ru")
    assert refused.answers_in("ru") and not refused.answers_in("en")


def test_an_answer_is_held_smaller_and_given_back_as_it_was() -> None:
    documents = [
        {"delivery_id": f"{n:036d}", "number": "0000-000123", "state": "waiting", "refusal": None}
        for n in range(10)
    ]
    body = orjson.dumps({"documents": documents, "withdrawn": []})
    held = HeldAnswer.of(News(open=10, unacknowledged=True, withdrawn=False), body, None)
    assert held.body() == body
    assert len(held.deflated) < len(body) / 2


def test_news_is_a_withdrawal_an_unacknowledged_copy_or_another_number_of_documents() -> None:
    quiet = News(open=2, unacknowledged=False, withdrawn=False)
    assert not quiet.for_terminal(2)
    assert quiet.for_terminal(1)
    assert quiet._replace(unacknowledged=True).for_terminal(2)
    assert quiet._replace(withdrawn=True).for_terminal(2)


def test_only_an_answer_small_once_deflated_may_be_held() -> None:
    news = News(open=1, unacknowledged=False, withdrawn=False)
    assert HeldAnswer.of(news, b"{}", None).small_enough
    # Bytes that do not compress: an answer that grew with its device's open documents.
    assert not HeldAnswer.of(news, os.urandom(MAX_HELD_BYTES + 1), None).small_enough


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("TSDX_INBOX_SUMMARIES_SECONDS", "0", "inbox_summaries_seconds"),
        ("TSDX_INBOX_SUMMARIES_SECONDS", "soon", "inbox_summaries_seconds"),
        ("TSDX_INBOX_SUMMARIES_SIZE", "-1", "inbox_summaries_size"),
        ("TSDX_INBOX_SUMMARIES_SIZE", "lots", "inbox_summaries_size"),
    ],
)
def test_a_bad_bound_is_refused_naming_its_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, setting: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    assert [error["loc"] for error in refused.value.errors()] == [(setting,)]


def test_answers_are_held_thirty_seconds_at_most_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TSDX_INBOX_SUMMARIES_SECONDS", raising=False)
    assert Settings(_env_file=None).inbox_summaries_seconds == 30
