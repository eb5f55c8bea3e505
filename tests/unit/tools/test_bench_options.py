"""``tsdx bench`` refuses options that cannot go together, before it starts anything."""

from __future__ import annotations

import pytest

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
