"""Every service has the same kinds of module, and its repository is the only module that calls
its store: every other module hands the store (or a transaction's session) on to it. Read from
the source with ``ast``."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "routing", "gateway", "lan_writer", "dashboard")
# The names that stand for a store or a session of one: ``rt.store``, ``tx.db``, ``store``, ``db``,
# and a use case's own ``self._store`` or ``self._db``.
STORE_NAMES = frozenset({"store", "_store", "db", "_db"})


def _store_calls(path: Path) -> list[str]:
    """Each call of a method of a store or session (``rt.store.get(...)``, ``tx.db.update(...)``,
    ``db.find(...)``). Passing the store on to the repository or a use case is not a call."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if name in STORE_NAMES:
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    return found


def _all_but_the_repository(service: str) -> list[Path]:
    folder = ROOT / "services" / service
    return [p for p in sorted(folder.rglob("*.py")) if p.name != "repository.py"]


# The five kinds of module: routers, message handlers, the store's one door, the wiring; the
# domain is every other module of the service.
KINDS = ("api/__init__.py", "consumers.py", "repository.py", "service.py")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_kinds_of_module(service: str) -> None:
    folder = ROOT / "services" / service
    assert [kind for kind in KINDS if not (folder / kind).is_file()] == []


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_repository_calls_the_store(service: str) -> None:
    calls = [call for path in _all_but_the_repository(service) for call in _store_calls(path)]
    assert calls == []


def test_the_rule_sees_a_store_call(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def f(rt, tx, db):\n"
        "    await rt.store.get('a', 'b')\n"
        "    await tx.db.update('a', 'b', {})\n"
        "    await db.find('a')\n"
        "    await self._store.count('a')\n"
        "    await self._db.delete('a', 'b')\n"
        "    await repo.copy(rt.store, 'b')\n"
    )
    calls = [call.split(" ")[1] for call in _store_calls(sample)]
    assert calls == [
        "rt.store.get",
        "tx.db.update",
        "db.find",
        "self._store.count",
        "self._db.delete",
    ]
