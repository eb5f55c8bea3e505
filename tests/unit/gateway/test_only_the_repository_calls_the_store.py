"""Every module of the gateway but repository.py leaves the store to the repository: none
calls a method of a store or a session (``rt.store.get``, ``tx.db.update``, ``db.find``)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GATEWAY = ROOT / "services" / "gateway"
STORE_NAMES = frozenset({"store", "db"})


def _store_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if name in STORE_NAMES:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    return found


def test_no_gateway_module_but_the_repository_calls_the_store() -> None:
    modules = [p for p in sorted(GATEWAY.rglob("*.py")) if p.name != "repository.py"]
    assert [call for path in modules for call in _store_calls(path)] == []


def test_the_rule_sees_a_store_call_but_not_the_store_handed_on(tmp_path: Path) -> None:
    sample = tmp_path / "uses_the_store.py"
    sample.write_text(
        "async def f(rt, tx):\n"
        "    await rt.store.get('a', 'b')\n"
        "    await tx.db.find('a')\n"
        "    await repo.copy(rt.store, 'b')\n"
    )
    assert _store_calls(sample) == [
        "uses_the_store.py:2 rt.store.get",
        "uses_the_store.py:3 tx.db.find",
    ]
