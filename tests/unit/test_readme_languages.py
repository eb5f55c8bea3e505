"""README.ru.md keeps in step with README.md: each links to the other, the Russian one shows
the same commands (the two commands and the tour) and lists the same documents."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = (ROOT / "README.md").read_text(encoding="utf-8")
RUSSIAN = (ROOT / "README.ru.md").read_text(encoding="utf-8")


def _commands(readme: str) -> list[str]:
    """Command lines of the bash blocks, without comments; <placeholders> are said in the
    reader's language, so they are compared as <>."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL):
        for line in block.splitlines():
            command = re.sub(r"<[^>]*>", "<>", line.split("#")[0]).strip()
            if command:
                lines.append(command)
    return lines


def _documents(readme: str) -> set[str]:
    table = readme[readme.index("\n| [docs/") :]
    return {link.replace(".ru.md", ".md") for link in re.findall(r"\]\((docs/[^)]+\.md)\)", table)}


def test_each_readme_links_the_other_at_the_top() -> None:
    assert "[README.ru.md](README.ru.md)" in ENGLISH.splitlines()[2]
    assert "[README.md](README.md)" in RUSSIAN.splitlines()[2]


def test_the_russian_readme_shows_the_same_commands() -> None:
    english = [c for c in _commands(ENGLISH) if "bench" not in c]  # Performance: English only
    assert english, "the pattern finds the commands"
    assert _commands(RUSSIAN) == english


def test_the_russian_readme_lists_the_same_documents() -> None:
    assert _documents(RUSSIAN) == _documents(ENGLISH)
