"""How a 1C document, flattened to ``{source field: value}``, becomes a tsdx ``Document``.

A mapping is data: rules ``{source, target, default}`` for the header and for table lines.
All rules for one target are tried in order and the first source that holds a value wins, so
one mapping serves several 1C configurations; when none does, the first ``default`` among them
is used. Whatever no rule took stays in ``extra``: nothing the accounting side sent is lost.

Flat keys: nested objects are joined with dots (``Контрагент.Наименование``); a nested
reference collapses to its GUID (``Ref``, ``Ссылка`` or ``#value``) under its own key, and
XDTO ``#type`` annotations are dropped. ``null``, blank text and the empty 1C reference (the
all-zero GUID) count as no value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.contracts.documents import (
    Document,
    DocumentHeader,
    DocumentLine,
    repeated_line_number,
)
from shared.contracts.quantity import quantity_problem
from shared.onec.errors import OneCImportError, shown

EMPTY_REF = "00000000-0000-0000-0000-000000000000"

HeaderTarget = Literal["id", "number", "date", "counterparty", "warehouse", "comment"]
LineTarget = Literal[
    "line_no",
    "product_id",
    "name",
    "article",
    "barcodes",
    "unit",
    "planned_qty",
    "characteristic",
    "series",
    "expiry",
    "cell",
]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1, max_length=200)
    default: str | None = None


class HeaderRule(_Rule):
    target: HeaderTarget


class LineRule(_Rule):
    target: LineTarget


class DocumentMapping(BaseModel):
    """Header rules, line rules, and the tables that may hold the lines (first present wins)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header: tuple[HeaderRule, ...]
    lines: tuple[LineRule, ...]
    tables: tuple[str, ...] = Field(min_length=1)


# The default mapping: field names of 1C's typical configurations (УТ 11, КА 2, ERP 2, УНФ),
# in the English names XDTO gives standard attributes and the Russian ones of a Структура.

_PRESENTATIONS = ("Представление", "Наименование", "Description")


def _presentations(*fields: str) -> tuple[str, ...]:
    return tuple(f"{field}.{name}" for field in fields for name in _PRESENTATIONS)


def _references(*fields: str) -> tuple[str, ...]:
    """Reference fields: any one's presentation when the export carries one, else a GUID."""
    return (*_presentations(*fields), *fields)


DEFAULT_HEADER_SOURCES: dict[HeaderTarget, tuple[str, ...]] = {
    "id": ("Ref", "Ссылка", "УникальныйИдентификатор", "GUID"),
    "number": ("Number", "Номер"),
    "date": ("Date", "Дата"),
    "counterparty": _references("Контрагент", "Партнер"),
    "warehouse": _references("Склад", "СкладОтправитель"),
    "comment": ("Комментарий", "Comment"),
}

DEFAULT_LINE_SOURCES: dict[LineTarget, tuple[str, ...]] = {
    "line_no": ("LineNumber", "НомерСтроки"),
    "product_id": ("Номенклатура",),
    "name": (*_presentations("Номенклатура"), "НоменклатураНаименование", "Наименование"),
    "article": ("Артикул", "Номенклатура.Артикул"),
    "barcodes": ("Штрихкоды", "Штрихкод"),
    "unit": _references("ЕдиницаИзмерения", "Номенклатура.ЕдиницаИзмерения"),
    "planned_qty": ("Количество", "КоличествоПлан"),
    "characteristic": _references("Характеристика"),
    "series": _references("Серия"),
    "expiry": ("ГоденДо", "СрокГодности", "Серия.ГоденДо"),
    "cell": _references("Ячейка"),
}

DEFAULT_TABLES = ("Товары", "Запасы", "Строки")

DEFAULT_MAPPING = DocumentMapping(
    header=tuple(
        HeaderRule(source=source, target=target)
        for target, sources in DEFAULT_HEADER_SOURCES.items()
        for source in sources
    ),
    lines=tuple(
        LineRule(source=source, target=target)
        for target, sources in DEFAULT_LINE_SOURCES.items()
        for source in sources
    ),
    tables=DEFAULT_TABLES,
)


# Flattening: the shape rules are written against.


def flatten(record: Mapping[str, object]) -> dict[str, object]:
    """One header or table row as flat keys; a typed row (``#type``/``#value``) is its value."""
    while isinstance(inner := record.get("#value"), dict):
        record = inner
    flat: dict[str, object] = {}
    for key, value in record.items():
        _flatten_into(flat, key, value)
    return flat


def _flatten_into(flat: dict[str, object], name: str, value: object) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "#type":
                continue  # how 1C typed the value; the value itself is kept
            if key == "#value" or (key in ("Ref", "Ссылка") and _is_scalar(item)):
                _flatten_into(flat, name, item)
            else:
                _flatten_into(flat, f"{name}.{key}" if name else key, item)
    elif isinstance(value, list):
        flat[name] = [_list_item(item) for item in value]
    else:
        flat[name] = value


def _list_item(item: object) -> object:
    """A one-field object in a list (``{"Штрихкод": "…"}``, a typed reference) is its value."""
    if not isinstance(item, dict):
        return item
    flat: dict[str, object] = {}
    _flatten_into(flat, "", item)
    return next(iter(flat.values())) if len(flat) == 1 else item


def _is_scalar(value: object) -> bool:
    return not isinstance(value, dict | list)


def has_value(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() not in ("", EMPTY_REF)
    if isinstance(value, list):
        return bool(value)
    return True


# Mapping.


def map_document(
    raw_header: Mapping[str, object],
    raw_lines: Sequence[Mapping[str, object]],
    header_rules: Sequence[HeaderRule | Mapping[str, object]],
    line_rules: Sequence[LineRule | Mapping[str, object]],
    accounting_type: str,
    *,
    position: int = 1,
) -> Document:
    """The single entry point. ``position`` is the document's place in its batch (from 1),
    named in error messages; a line is named by its place in the table (from 1)."""
    if not accounting_type.strip():
        raise OneCImportError("onec_unknown_type", document=position)
    header_by = [HeaderRule.model_validate(rule) for rule in header_rules]
    lines_by = [LineRule.model_validate(rule) for rule in line_rules]
    header = _map_header(raw_header, header_by, accounting_type, position)
    lines = [
        _map_line(raw, lines_by, position, line) for line, raw in enumerate(raw_lines, start=1)
    ]
    repeated = repeated_line_number(line.line_no for line in lines)
    if repeated is not None:
        number, first, second = repeated
        raise OneCImportError(
            "onec_line_no_repeated", document=position, line_no=number, first=first, second=second
        )
    return Document(header=header, lines=lines)


@dataclass(frozen=True)
class _Picked:
    source: str  # the 1C field it came from (the rule's source for a default), for messages
    value: object
    taken: bool  # False for a default: the source field itself, if any, stays in extra


def _pick(
    raw: Mapping[str, object], rules: Sequence[HeaderRule] | Sequence[LineRule]
) -> dict[str, _Picked]:
    picked: dict[str, _Picked] = {}
    defaults: dict[str, _Picked] = {}
    for rule in rules:
        if rule.target in picked:
            continue
        value = raw.get(rule.source)
        if has_value(value):
            picked[rule.target] = _Picked(rule.source, value, taken=True)
        elif rule.default is not None and rule.target not in defaults:
            defaults[rule.target] = _Picked(rule.source, rule.default, taken=False)
    return defaults | picked


def _rest(raw: Mapping[str, object], picked: dict[str, _Picked]) -> dict[str, object]:
    taken = {p.source for p in picked.values() if p.taken}
    return {
        key: value for key, value in raw.items() if key not in taken and value not in (None, "")
    }


def _map_header(
    raw: Mapping[str, object], rules: Sequence[HeaderRule], accounting_type: str, document: int
) -> DocumentHeader:
    picked = _pick(raw, rules)
    if "id" not in picked:
        raise OneCImportError("onec_missing_ref", document=document)
    values: dict[str, object] = {"accounting_type": accounting_type, "extra": _rest(raw, picked)}
    for target, p in picked.items():
        text = _text(p.value)
        if text is None:
            raise OneCImportError("onec_header_invalid", document=document, field=p.source)
        values[target] = text
    try:
        return DocumentHeader.model_validate(values)
    except ValidationError as exc:
        raise _refusal(exc, picked, document=document) from None


def _map_line(
    raw: Mapping[str, object], rules: Sequence[LineRule], document: int, line: int
) -> DocumentLine:
    picked = _pick(raw, rules)
    if "product_id" not in picked:
        raise OneCImportError("onec_line_without_product", document=document, line=line)
    values: dict[str, object] = {"line_no": line, "extra": _rest(raw, picked)}
    for target, p in picked.items():
        values[target] = _line_value(target, p, document, line)
    try:
        return DocumentLine.model_validate(values)
    except ValidationError as exc:
        raise _refusal(exc, picked, document=document, line=line) from None


def _line_value(target: str, p: _Picked, document: int, line: int) -> object:
    where = {"document": document, "line": line, "field": p.source}
    if target == "planned_qty":
        quantity = parse_quantity(p.value)
        if quantity is None or quantity_problem(quantity) is not None:
            raise OneCImportError("onec_bad_quantity", value=shown(p.value), **where)
        if quantity < 0:
            raise OneCImportError("onec_negative_quantity", value=shown(quantity), **where)
        return quantity
    if target == "line_no":
        number = _line_no(p.value)
        if number is None:
            raise OneCImportError("onec_bad_line_no", value=shown(p.value), **where)
        return number
    if target == "expiry":
        return _date(p.value, where)
    converted = _barcodes(p.value) if target == "barcodes" else _text(p.value)
    if converted is None:
        raise OneCImportError("onec_line_invalid", **where)
    return converted


_EMPTY_DATE = "0001-01-01"  # 1C's empty date


def _date(value: object, where: dict[str, object]) -> str:
    """A 1C date (``2027-03-31T00:00:00``) as ``2027-03-31``; 1C's empty date as none."""
    text = _text(value)
    day = text[:10] if text is not None else ""
    if text is None or (text and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)):
        raise OneCImportError("onec_line_invalid", **where)
    return "" if day == _EMPTY_DATE else day


def _refusal(exc: ValidationError, picked: dict[str, _Picked], **where: int) -> OneCImportError:
    """The model's own limits (lengths), told in the 1C field's name."""
    error = exc.errors()[0]
    target = str(error["loc"][0]) if error["loc"] else ""
    field = picked[target].source if target in picked else target
    on_line = "line" in where
    if error["type"] in ("string_too_long", "too_long"):
        code = "onec_line_too_long" if on_line else "onec_header_too_long"
        return OneCImportError(code, field=field, limit=error["ctx"]["max_length"], **where)
    return OneCImportError(
        "onec_line_invalid" if on_line else "onec_header_invalid", field=field, **where
    )


# Values as 1C writes them.

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_DIGIT_GROUPING = dict.fromkeys(map(ord, " \u00a0\u202f\u2009"), None)  # 1C groups with NBSP
_BARCODE_SEPARATORS = re.compile(r"[,;]")


def parse_quantity(value: object) -> Decimal | None:
    """A number exactly: a JSON number, or text such as "2.250", "2,250" or "1 234,5"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if not isinstance(value, str):
        return None
    text = value.strip().translate(_DIGIT_GROUPING)
    if "." not in text:
        text = text.replace(",", ".")  # the decimal comma of Russian locales
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def _line_no(value: object) -> int | None:
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _text(value: object) -> str | None:
    """Text as sent; numbers written out in full (never in exponent form); None if not a scalar."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, int):
        return str(value)
    return None


def _barcodes(value: object) -> list[str] | None:
    """One barcode, a list, or several in one text separated by "," or ";"; no repeats."""
    codes: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        text = _text(item)
        if text is None:
            return None
        for code in _BARCODE_SEPARATORS.split(text):
            if code.strip() and code.strip() not in codes:
                codes.append(code.strip())
    return codes
