"""Reading 1C code and the JSON examples of the integrator's guide, as 1C would.

``read_as_1c`` follows ``ПрочитатьJSON``: without ``ПрочитатьВСоответствие`` every JSON object
becomes a ``Структура``, whose keys must be 1C identifiers (a letter or ``_`` first, then
letters, digits and ``_``: no dots, ``@``, ``-``, no digit first); with it, a ``Соответствие``
takes any key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUIDES = (ROOT / "docs" / "accounting-api.md", ROOT / "docs" / "accounting-api.ru.md")
MODULE = ROOT / "adapters" / "1c" / "ОбменТСД.bsl"

_IDENTIFIER = re.compile(r"[A-Za-zА-Яа-яЁё_][A-Za-zА-Яа-яЁё_0-9]*")
_ANSWER = re.compile(r"<!-- answer: ([\w-]+) -->\s*\n```json\n(.*?)```", re.S)
_BSL = re.compile(r"```bsl\n(.*?)```", re.S)


class NotAStructureKey(ValueError):
    """``ПрочитатьJSON`` into a ``Структура`` fails on this key."""


def read_as_1c(text: str, *, into_map: bool) -> Any:
    value = json.loads(text)
    if not into_map:
        _check_keys(value)
    return value


def _check_keys(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not _IDENTIFIER.fullmatch(key):
                raise NotAStructureKey(key)
            _check_keys(item)
    elif isinstance(value, list):
        for item in value:
            _check_keys(item)


def documented_answers(guide: Path) -> dict[str, str]:
    """The guide's example answers, by the name in the ``<!-- answer: NAME -->`` before each."""
    found: dict[str, str] = {}
    for name, text in _ANSWER.findall(guide.read_text(encoding="utf-8")):
        assert name not in found, f"{guide.name}: the answer {name} is shown twice"
        found[name] = text
    return found


def bsl_blocks(guide: Path) -> list[str]:
    return _BSL.findall(guide.read_text(encoding="utf-8"))


def module_text() -> str:
    return MODULE.read_bytes().decode("utf-8-sig")


DEVICE_ID = re.compile(r"[0-9a-f]{32}")
# Maps whose keys are data, not names: compared by their values.
DATA_KEYED = {"per_user"}


def same_shape(example: Any, actual: Any, where: str) -> None:
    shown = f"{where}: documented {json.dumps(example, ensure_ascii=False)[:300]}, " \
        f"real {json.dumps(actual, ensure_ascii=False)[:600]}"  # fmt: skip
    if isinstance(example, dict):
        assert isinstance(actual, dict), shown
        if where.rsplit(".", 1)[-1] in DATA_KEYED:
            assert bool(example) == bool(actual), shown
            for key in example:
                assert DEVICE_ID.fullmatch(key), f"{where}: {key} is not a device id"
            if example:
                same_shape(next(iter(example.values())), next(iter(actual.values())), where)
            return
        assert set(example) == set(actual), shown
        for key, value in example.items():
            if key in ("code", "status", "kind"):
                assert value == actual[key], f"{where}.{key}: {value} ≠ {actual[key]}"
            if key == "device_id" or (key == "value" and example.get("kind") == "device"):
                assert isinstance(value, str) and DEVICE_ID.fullmatch(value), f"{where}.{key}"
            same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(actual, list), shown
        assert bool(example) == bool(actual), shown
        if example:
            same_shape(example[0], actual[0], f"{where}[0]")
    elif example is not None and actual is not None:
        assert _kind(example) == _kind(actual), shown


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


_STRING = re.compile(r'"(?:[^"]|"")*"')
_COMMENT = re.compile(r"//[^\n]*")


def code_only(bsl: str) -> str:
    """1C code without its comments and string literals (each literal left as ``""``)."""
    return _COMMENT.sub("", _STRING.sub('""', bsl))
