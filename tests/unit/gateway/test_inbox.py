"""The inbox's rules without I/O: what a poll counts as news, and which refusal reopens a copy."""

from __future__ import annotations

from services.gateway.inbox import Polled, reopened_by
from shared.contracts.copies import CopyState
from tests.support.gateway_copies import a_copy, a_polled_copy


def test_a_copy_not_yet_acknowledged_is_news_even_when_the_count_matches() -> None:
    polled = Polled([a_polled_copy(state=CopyState.DELIVERED)])
    assert polled.news.for_terminal(1)


def test_acknowledged_copies_the_terminal_holds_are_no_news() -> None:
    polled = Polled(
        [
            a_polled_copy(id="a", state=CopyState.DOWNLOADED),
            a_polled_copy(id="b", state=CopyState.IN_PROGRESS),
        ]
    )
    assert [r.id for r in polled.open] == ["a", "b"]
    assert not polled.news.for_terminal(2)


def test_a_count_other_than_the_terminals_is_news() -> None:
    polled = Polled([a_polled_copy(state=CopyState.DOWNLOADED)])
    assert polled.news.for_terminal(0)
    assert Polled([]).news.for_terminal(1)
    assert not Polled([]).news.for_terminal(0)


def test_a_withdrawal_not_yet_seen_is_news_and_is_not_an_open_copy() -> None:
    polled = Polled([a_polled_copy(state=CopyState.WITHDRAWN, withdrawn_reason="cancelled")])
    assert polled.open == []
    assert [r.withdrawn_reason for r in polled.withdrawn] == ["cancelled"]
    assert polled.news.for_terminal(0)


def test_a_seen_withdrawal_is_neither_open_nor_news() -> None:
    polled = Polled([a_polled_copy(state=CopyState.WITHDRAWAL_SEEN)])
    assert (polled.open, polled.withdrawn, polled.news.for_terminal(0)) == ([], [], False)


def test_a_refusal_of_the_latest_result_reopens_a_finished_copy() -> None:
    assert reopened_by(a_copy(state=CopyState.DONE, last_result_id="r2"), "r2")


def test_a_refusal_of_an_earlier_result_leaves_the_copy_alone() -> None:
    assert not reopened_by(a_copy(state=CopyState.DONE, last_result_id="r2"), "r1")


def test_a_refusal_reopens_a_copy_that_never_had_a_result_recorded() -> None:
    assert reopened_by(a_copy(state=CopyState.DOWNLOADED), "r1")


def test_a_withdrawn_copy_is_never_reopened() -> None:
    assert not reopened_by(a_copy(state=CopyState.WITHDRAWN, last_result_id="r1"), "r1")
