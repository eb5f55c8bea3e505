"""The runtime core and the services never import the tools (the CLI, the bench, the clients).

Read from the source with ``ast``, not by importing: a breach in a module no test happens to
load still fails here.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = "tools"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _is_tools(module: str) -> bool:
    return module == TOOLS or module.startswith(TOOLS + ".")


def breaches(folders: tuple[str, ...] = ("services", "shared")) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, module in _imported_modules(path):
                if _is_tools(module):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


def test_services_and_the_core_never_import_the_tools() -> None:
    assert breaches() == []


def test_the_walk_sees_a_breach(tmp_path: Path) -> None:
    # The rule's own check: an import of the tools, plain or from-style, is caught.
    sample = tmp_path / "sample.py"
    sample.write_text("import tools.cli\nfrom tools.client import AdminClient\nimport toolsy\n")
    assert [module for _, module in _imported_modules(sample) if _is_tools(module)] == [
        "tools.cli",
        "tools.client",
    ]


def test_the_tools_are_where_the_layout_says() -> None:
    for package in ("cli", "bench", "client"):
        assert (ROOT / TOOLS / package / "__init__.py").is_file()
        assert not list((ROOT / "shared" / package).glob("*.py"))
