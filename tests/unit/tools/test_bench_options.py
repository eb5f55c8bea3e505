"""``tsdx bench`` and the bench's tools refuse a command line that cannot work, before they start
anything."""

from __future__ import annotations

from types import ModuleType

import pytest

from tools.bench import batch_load, half_load
from tools.cli.main import main
from tools.cli.output import USAGE


def test_polls_only_with_write_docs_is_refused_with_its_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--lang", "en", "bench", "--polls-only", "--write-docs"]) == USAGE
    assert "--polls-only" in capsys.readouterr().err


def test_polls_only_and_catalog_only_are_refused_together() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bench", "--polls-only", "--catalog-only"])
    assert exited.value.code == USAGE


@pytest.mark.parametrize(
    ("tool", "argv", "says"),
    [
        (half_load, ["0"], "each rate must be"),
        (half_load, ["-5"], "each rate must be"),
        (half_load, ["inf"], "each rate must be"),
        (half_load, ["nan"], "each rate must be"),
        (half_load, ["75", "1e9"], "each rate must be"),
        (half_load, ["fast"], "invalid float value: 'fast'"),
        (half_load, ["--seconds", "0.5"], "--seconds must be from 1 to 600"),
        (half_load, ["--seconds", "nan"], "--seconds must be from 1 to 600"),
        (half_load, ["--rounds", "0"], "--rounds must be at least 1"),
        (half_load, ["--rounds", "two"], "invalid int value: 'two'"),
        (batch_load, ["0"], "each number of uploaders must be from 1 to 64"),
        (batch_load, ["8", "65"], "each number of uploaders must be from 1 to 64"),
        (batch_load, ["eight"], "invalid int value: 'eight'"),
        (batch_load, ["--seconds", "inf"], "--seconds must be from 1 to 600"),
        (batch_load, ["--rounds", "0"], "--rounds must be at least 1"),
        (batch_load, ["--documents", "0"], "--documents must be from 1 to 500"),
        (batch_load, ["--documents", "501"], "--documents must be from 1 to 500"),
    ],
)
def test_a_probe_refuses_a_bad_command_line_saying_why(
    tool: ModuleType, argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        tool.arguments(argv)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_the_half_load_tool_takes_rates_rounds_and_seconds() -> None:
    given = half_load.arguments(["60", "90.5", "--rounds", "2", "--seconds", "20"])
    assert (given.rates, given.rounds, given.seconds) == ([60.0, 90.5], 2, 20.0)
    assert half_load.arguments([]).rates == [75.0]


def test_the_batch_load_tool_takes_uploaders_documents_rounds_and_seconds() -> None:
    given = batch_load.arguments(["1", "8", "--rounds", "2", "--seconds", "20"])
    assert (given.uploaders, given.rounds, given.seconds) == ([1, 8], 2, 20.0)
    assert (batch_load.arguments([]).uploaders, given.documents) == ([8], 50)
    assert batch_load.arguments(["32", "--documents", "1"]).documents == 1
