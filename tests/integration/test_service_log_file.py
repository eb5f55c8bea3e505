"""A service's log file under ``tsdx up``, written as the pump writes it: rotated before a line
would take it past the limit, a line longer than the limit alone in a file, at most the kept
number of older files, and with none kept the file emptied instead; a file deleted or in the
way costs only the lines it could not take, and the pump never stops reading (real files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.cli.service_logs import ServiceLog, pump


def _line(n: int, width: int = 10) -> bytes:
    return f"{n:0{width - 1}d}\n".encode()


def test_rotates_before_a_line_would_pass_the_limit_and_keeps_the_newest(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "svc.log", max_bytes=30, backups=2)
    log.write_lines([_line(n) for n in range(7)])  # 10 bytes each: three to a file
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc.log", "svc.log.1", "svc.log.2"]
    assert (tmp_path / "svc.log").read_bytes() == _line(6)
    assert (tmp_path / "svc.log.1").read_bytes() == b"".join(_line(n) for n in (3, 4, 5))
    assert (tmp_path / "svc.log.2").read_bytes() == b"".join(_line(n) for n in (0, 1, 2))


def test_a_line_longer_than_the_limit_goes_alone_into_a_file(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "svc.log", max_bytes=30, backups=3)
    log.write_lines([_line(1), _line(2, width=50), _line(3)])
    log.close()
    assert (tmp_path / "svc.log.2").read_bytes() == _line(1)
    assert (tmp_path / "svc.log.1").read_bytes() == _line(2, width=50)
    assert (tmp_path / "svc.log").read_bytes() == _line(3)


def test_with_no_older_files_kept_the_file_is_emptied(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "svc.log", max_bytes=25, backups=0)
    log.write_lines([_line(n) for n in range(5)])
    log.close()
    assert [p.name for p in tmp_path.iterdir()] == ["svc.log"]
    assert (tmp_path / "svc.log").read_bytes() == _line(4)


def test_a_file_left_by_an_earlier_run_counts_towards_the_limit(tmp_path: Path) -> None:
    (tmp_path / "svc.log").write_bytes(_line(0) + _line(1))
    log = ServiceLog(tmp_path / "svc.log", max_bytes=30, backups=1)
    log.write_lines([_line(2), _line(3)])
    log.close()
    assert (tmp_path / "svc.log.1").read_bytes() == b"".join(_line(n) for n in (0, 1, 2))
    assert (tmp_path / "svc.log").read_bytes() == _line(3)


def test_a_file_deleted_meanwhile_is_started_again_at_the_next_rotation(tmp_path: Path) -> None:
    log = ServiceLog(tmp_path / "svc.log", max_bytes=30, backups=2)
    log.write_lines([_line(0), _line(1)])
    (tmp_path / "svc.log").unlink()  # an administrator's cleanup, or an outside logrotate
    log.write_lines([_line(2), _line(3)])
    log.close()
    assert (tmp_path / "svc.log").read_bytes() == _line(3)


def test_a_file_that_cannot_be_written_loses_those_lines_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "svc.log").mkdir()  # in the way of the file: every open fails
    log = ServiceLog(tmp_path / "svc.log", max_bytes=100, backups=1)
    log.write_lines([_line(0)])
    log.write_lines([_line(1)])
    said = capsys.readouterr().err
    assert said.count("tsdx up:") == 1 and str(tmp_path / "svc.log") in said
    (tmp_path / "svc.log").rmdir()
    log.write_lines([_line(2)])
    log.close()
    assert (tmp_path / "svc.log").read_bytes() == _line(2)


def test_the_pump_writes_lines_split_across_reads_and_a_last_line_without_newline(
    tmp_path: Path,
) -> None:
    read_end, write_end = os.pipe()
    log = ServiceLog(tmp_path / "svc.log", max_bytes=10_000, backups=1)
    thread = pump(os.fdopen(read_end, "rb"), log)
    for piece in (b'{"a":', b' 1}\n{"b": 2}\r', b"\n", b"last words"):
        os.write(write_end, piece)
    os.close(write_end)  # the service ended
    thread.join(timeout=10)
    assert not thread.is_alive()
    log.close()
    assert (tmp_path / "svc.log").read_bytes() == b'{"a": 1}\n{"b": 2}\nlast words\n'
