"""A service's log file under ``tsdx up``, written as the pump writes it: rotated before a line
would take it past the limit, a line longer than the limit alone in a file, at most the kept
number of older files, and with none kept the file emptied instead (real files)."""

from __future__ import annotations

from pathlib import Path

from tools.cli.service_logs import ServiceLog


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
