"""What the tsdx command prints and what the dashboard shows come from the message catalog,
not from English written into the code.

The command line: every literal part of what is printed (``print``, ``say``) or raised to the
operator (a failed demo check, a usage error, an exit message) holds no Latin word; the text
comes from ``shared.i18n``. ``tsdx bench``, ``tsdx contract`` and ``scripts/rabbit-cluster``
(``local_cluster.py``) are developers' tools whose output (docs/performance.md, the contract
files, addresses to paste) is English by design (docs/cli.md, docs/deploy.md), and
``--help`` is English (argparse builds it before ``--lang`` is read).

The dashboard: the template has no words of its own (only ``${label}`` placeholders), and every
label its script asks for exists in the catalog in both languages.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared.i18n import CATALOG, JOURNEY_MESSAGES
from shared.i18n_ui import UI_TEXTS

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "tools" / "cli"
DASHBOARD = ROOT / "services" / "dashboard"
DEVELOPER_TOOLS = {"bench.py", "contract.py", "local_cluster.py"}
SHOWN_BY = {"print", "say", "StepFailed", "Skipped", "UsageError", "SystemExit", "check"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
ALLOWED = {"tsdx"}


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _written_parts(argument: ast.expr) -> list[str]:
    """The literal text of an argument: a string, or the fixed parts of an f-string."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return [argument.value]
    if isinstance(argument, ast.JoinedStr):
        return [
            part.value
            for part in argument.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        ]
    return []


def _english_written_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or _called(node) not in SHOWN_BY:
            continue
        # check(condition, failure): the failure is the second argument.
        arguments = node.args[1:] if _called(node) == "check" else node.args
        for argument in arguments:
            for part in _written_parts(argument):
                if part in CATALOG:
                    continue  # a key of the catalog, rendered in the reader's language
                words = [w for w in LATIN_WORD.findall(part) if w not in ALLOWED]
                if words:
                    found.append(f"{path.name}:{node.lineno}: {part!r}")
    return found


COMMAND_MODULES = sorted(p for p in CLI.glob("*.py") if p.name not in DEVELOPER_TOOLS)


def test_the_command_lines_modules_are_found() -> None:
    # Moving the CLI elsewhere must not leave the scan below with nothing to read.
    assert {"up.py", "demo.py", "accounting.py"} <= {p.name for p in COMMAND_MODULES}


@pytest.mark.parametrize("path", COMMAND_MODULES, ids=lambda p: p.name)
def test_the_command_line_prints_no_english_of_its_own(path: Path) -> None:
    assert _english_written_in(path) == []


def test_the_scan_finds_english_written_into_a_print(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'print(f"{count} steps passed")\nsay("tsdx: ")\nsay("cli.demo.summary")\n',
        encoding="utf-8",
    )
    assert _english_written_in(sample) == ["sample.py:1: ' steps passed'"]


def test_the_dashboard_template_has_no_words_of_its_own() -> None:
    page = (DASHBOARD / "templates" / "index.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") : page.index('<script type="application/json"')]
    shown = re.sub(r"\$\{\w+\}|<[^>]*>", " ", body)
    assert LATIN_WORD.findall(shown) == []
    for name in re.findall(r"\$\{(\w+)\}", page):
        if name not in {"lang", "language_links", "labels_json"}:
            # The document search's words are shared with tsdx document show.
            assert f"dashboard.{name}" in UI_TEXTS or name in JOURNEY_MESSAGES, name


def test_every_label_the_dashboard_script_asks_for_is_in_the_catalog() -> None:
    # page.js holds what the page's scripts share (the calls and their error words).
    script = "".join(
        (DASHBOARD / "static" / name).read_text(encoding="utf-8")
        for name in ("page.js", "dashboard.js")
    )
    direct = set(re.findall(r"\bL\.(\w+)", script))
    assert direct, "the pattern finds the script's labels"
    for name in direct:
        assert f"dashboard.{name}" in UI_TEXTS, name
    # label("target_" + kind): each kind the server sends has its word.
    families = {
        "target_": ("pin", "device", "group", "user", "everyone"),
        "channel_": ("internet", "lan"),
        "outcome_": ("accepted", "refused", "completed", "result_refused"),
        "kind_": ("upload", "result"),
        "mode_": ("online", "offline"),
        "status_": ("active", "blocked", "retired"),
        "presence_": ("online", "offline", "unknown"),
        "queue_": ("quorum", "classic"),
    }
    assert set(re.findall(r'label\("(\w+_)"', script)) == set(families)
    for prefix, values in families.items():
        for value in values:
            assert f"dashboard.{prefix}{value}" in UI_TEXTS, prefix + value
