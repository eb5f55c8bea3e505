"""In routing, the LAN writer and the dashboard the repository is the only module that calls
the store: every other module hands the store (or a transaction's session) to it. Read from
the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# ``store``, ``db``, ``self._store``, ``tx.db``, ``rt.store``: a store or a session of one.
STORE_NAMES = frozenset({"store", "db", "_store", "_db"})


def store_calls(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if name in STORE_NAMES:
            found.append(f"{node.lineno} {ast.unparse(node.func)}")
    return found


@pytest.mark.parametrize("service", ["routing", "lan_writer", "dashboard"])
def test_only_the_repository_calls_the_store(service: str) -> None:
    folder = ROOT / "services" / service
    calls = {
        str(path.relative_to(folder)): found
        for path in sorted(folder.rglob("*.py"))
        if path.name != "repository.py" and (found := store_calls(path.read_text(encoding="utf-8")))
    }
    assert calls == {}


def test_the_rule_sees_every_way_of_calling_a_store() -> None:
    sample = (
        "async def f(self, rt, tx, db):\n"
        "    await self._store.get('a', 'b')\n"
        "    await rt.store.find('a')\n"
        "    await tx.db.update('a', 'b', {})\n"
        "    await db.delete('a', 'b')\n"
        "    await repo.copy(self._store, 'b')\n"
    )
    calls = [call.split(" ")[1] for call in store_calls(sample)]
    assert calls == ["self._store.get", "rt.store.find", "tx.db.update", "db.delete"]
