"""«Честный ЗНАК» marking codes as the server compares them.

A terminal sends, with each fact line, the raw marking codes scanned for it (``marks``). Two
texts of one physical code differ by the crypto tail's separators and by whether the wedge
kept the group separator (GS, 0x1D); they are the same code when their **key**, ``"01" +
GTIN-14 + "21" + serial``, is the same. The terminal app's parser
(``terminal_app/web/js/barcodes.js``) finds the same key by the same rules:

- ``01`` + 14 digits + ``21`` + serial: the serial ends at the first GS; without one, at the
  first of the usual lengths (13, 6, 7, then 8-20) after which a «Честный ЗНАК» tail follows
  exactly (91+92 crypto, 93 crypto, 3103 weight, 8005 price), else it is the rest (6-20).
- a cigarette pack's 29 characters without AIs: GTIN-14 + 7-character serial + 8-character tail.
- anything else is compared as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from shared.contracts.documents import ExpectedMark, FactLine
from shared.contracts.results import MarkChecked
from shared.errors import Refusal

GS = "\x1d"
_HEAD = re.compile(r"01([0-9]{14})21")
_C = r"[\x21-\x7e]"
_TAIL = re.compile(
    rf"91{_C}{{4}}92(?:{_C}{{44}}|{_C}{{88}})"
    rf"|93{_C}{{4}}(?:3103[0-9]{{6}})?"
    rf"|3103[0-9]{{6}}(?:93{_C}{{4}})?"
    rf"|8005[0-9]{{6}}93{_C}{{4}}(?:240{_C}{{1,30}})?"
)
_SERIAL_LENGTHS = (13, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20)
_PACK = re.compile(rf"[0-9]{{14}}{_C}{{15}}")


def mark_key(code: str) -> str:
    """``"01" + GTIN + "21" + serial`` of a marking code; other codes are their own key."""
    head = _HEAD.match(code)
    if head is not None:
        rest = code[head.end() :]
        serial = rest.split(GS, 1)[0] if GS in rest else _serial_without_gs(rest)
        return f"01{head[1]}21{serial}"
    if _PACK.fullmatch(code):
        return f"01{code[:14]}21{code[14:21]}"
    return code


def _serial_without_gs(rest: str) -> str:
    for length in _SERIAL_LENGTHS:
        if length < len(rest) and _TAIL.fullmatch(rest[length:]):
            return rest[:length]
    return rest


def unique_marks(marks: Iterable[str]) -> list[str]:
    """The marks in order, each physical code once (the first text of it is kept)."""
    seen: set[str] = set()
    kept = []
    for mark in marks:
        key = mark_key(mark)
        if key not in seen:
            seen.add(key)
            kept.append(mark)
    return kept


def first_repeated(marks: Iterable[str]) -> str | None:
    """The key of the first code that comes twice, or None."""
    seen: set[str] = set()
    for mark in marks:
        key = mark_key(mark)
        if key in seen:
            return key
        seen.add(key)
    return None


def refuse_repeated(lines: Sequence[FactLine]) -> None:
    """A result naming one physical code twice (on one line or two) is refused whole: one
    item cannot have been counted twice, so the terminal's result is wrong."""
    repeated = first_repeated(mark for line in lines for mark in line.marks)
    if repeated is not None:
        raise Refusal("mark_repeated", 422, mark=repeated)


def check_marks(expected: Sequence[ExpectedMark], lines: Sequence[FactLine]) -> list[MarkChecked]:
    """Every marking code of a document that came with expected codes, as found, surplus or
    missing; nothing when it came without (then there is nothing to check against).

    An aggregation code is checked by its contents, each listed with the aggregate it came
    in; the terminal counts an aggregation code as all its contents. Expected codes come in
    the order 1C sent them, then the surplus in the order scanned."""
    if not expected:
        return []
    scanned: dict[str, tuple[str, int | None]] = {}
    for line in lines:
        for mark in line.marks:
            scanned.setdefault(mark_key(mark), (mark, line.line_no))
    checked: list[MarkChecked] = []
    wanted: set[str] = set()
    for item in expected:
        inside: list[tuple[str, str | None]] = [(code, item.code) for code in item.contents]
        inside = inside or [(item.code, None)]
        for code, aggregate in inside:
            key = mark_key(code)
            wanted.add(key)
            seen = scanned.get(key)
            checked.append(
                MarkChecked(
                    code=seen[0] if seen else code,
                    status="found" if seen else "missing",
                    line_no=seen[1] if seen else None,
                    aggregate=aggregate,
                )
            )
    checked.extend(
        MarkChecked(code=code, status="surplus", line_no=line_no)
        for key, (code, line_no) in scanned.items()
        if key not in wanted
    )
    return checked
