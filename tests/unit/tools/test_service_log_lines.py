"""What the log pump of ``tsdx up`` takes from a service's pipe as lines (pure: no I/O)."""

from __future__ import annotations

import pytest

from tools.cli import service_logs
from tools.cli.service_logs import whole_lines


def test_whole_lines_are_taken_and_the_unended_rest_is_kept() -> None:
    lines, rest = whole_lines(b'{"a": 1}\n{"b": 2}\r\n{"c"')
    assert lines == [b'{"a": 1}\n', b'{"b": 2}\n']
    assert rest == b'{"c"'


def test_nothing_ended_gives_no_line() -> None:
    assert whole_lines(b"half a li") == ([], b"half a li")
    assert whole_lines(b"") == ([], b"")


def test_an_empty_line_stays_a_line() -> None:
    assert whole_lines(b"\n\n") == ([b"\n", b"\n"], b"")


def test_bytes_that_are_not_utf8_are_replaced() -> None:
    lines, _ = whole_lines(b"caf\xe9 \xd0\xbf\xd1\x80\xd0\xb8\n")
    assert lines == ["caf\ufffd при\n".encode()]


def test_a_runaway_line_is_cut_in_pieces_of_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_logs, "_MAX_LINE_BYTES", 4)
    lines, rest = whole_lines(b"ok\nabcdefghij")
    assert lines == [b"ok\n", b"abcd\n", b"efgh\n"]
    assert rest == b"ij"
