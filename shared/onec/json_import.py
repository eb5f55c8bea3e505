"""Documents as 1C writes them to JSON.

Accepted shapes:

- an XDTO object (``СериализаторXDTO.ЗаписатьJSON``):
  ``{"#type": "jcfg:DocumentObject.ЗаказПоставщику", "#value": {"Ref": …, "Товары": […]}}``;
- a structure (``ЗаписатьJSON`` of a ``Структура``): ``{"Ссылка": …, "Номер": …, "Товары": […]}``;
- a batch of either: a JSON array, an XDTO array ``{"#type": "jv8:Array", "#value": […]}``,
  or an object holding the list under ``Документы`` / ``documents``.

Numbers are read as exact decimals; text stays text (an article such as "000012345678901234"
never becomes a number).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.contracts.documents import Document
from shared.jsonexact import NotJSON, loads_exact
from shared.onec.errors import OneCImportError, decode_utf8, shown
from shared.onec.mapping import DEFAULT_MAPPING, DocumentMapping, flatten, map_document

_BATCH_KEYS = ("Документы", "documents", "Documents")
_DOCUMENT_TYPE_KEYS = ("ВидДокумента", "ТипДокумента")  # where a structure names its type
_DOCUMENT_OBJECT = "DocumentObject."
_METADATA_PREFIXES = (_DOCUMENT_OBJECT, "DocumentRef.", "Документ.", "Документы.")

# Synonyms the capitals of a metadata name cannot tell (the «и» of «товаров и услуг»), and the
# commonest documents of a warehouse.
KNOWN_DOCUMENT_TYPES: dict[str, str] = {
    "ЗаказПоставщику": "Заказ поставщику",
    "ЗаказКлиента": "Заказ клиента",
    "ЗаказПокупателя": "Заказ покупателя",
    "ПриобретениеТоваровУслуг": "Приобретение товаров и услуг",
    "ПоступлениеТоваровУслуг": "Поступление товаров и услуг",
    "РеализацияТоваровУслуг": "Реализация товаров и услуг",
    "ПеремещениеТоваров": "Перемещение товаров",
    "ПересчетТоваров": "Пересчет товаров",
    "ПриходныйОрдерНаТовары": "Приходный ордер на товары",
    "РасходныйОрдерНаТовары": "Расходный ордер на товары",
    "ИнвентаризацияТоваровНаСкладе": "Инвентаризация товаров на складе",
}

_WORD = re.compile(r"[А-ЯЁA-Z]+(?![а-яёa-z])|[А-ЯЁA-Z]?[а-яёa-z]+|\d+")


def read_1c_json(
    data: bytes | str,
    *,
    accounting_type: str | None = None,
    rules: DocumentMapping | None = None,
) -> list[Document]:
    """Every document in a 1C JSON export. ``accounting_type`` overrides the type the export
    names; ``rules`` replace the default mapping."""
    mapping = rules or DEFAULT_MAPPING
    items = _documents_in(parse_1c_json(decode_utf8(data)))
    if not items:
        raise OneCImportError("onec_no_documents")
    return [
        _read_document(item, position, accounting_type, mapping)
        for position, item in enumerate(items, start=1)
    ]


def looks_like_1c_export(value: object) -> bool:
    """Whether JSON sent as tsdx's own is rather a 1C export (an XDTO ``#type``, or the
    Russian names of a structure), so that its refusal can say how to send it."""
    items = value if isinstance(value, list) else [value]
    for item in items[:1]:
        if isinstance(item, dict) and "documents" not in item and "header" not in item:
            return any(key.startswith("#") or _CYRILLIC.search(key) for key in item)
    return False


_CYRILLIC = re.compile("[а-яА-ЯёЁ]")


def accounting_type_name(metadata_name: str) -> str:
    """«Заказ поставщику» for ``ЗаказПоставщику``: the known synonym, else the name split at
    its capitals (abbreviations such as «НДС» kept)."""
    name = metadata_name.strip()
    for prefix in _METADATA_PREFIXES:
        name = name.removeprefix(prefix)
    if name in KNOWN_DOCUMENT_TYPES:
        return KNOWN_DOCUMENT_TYPES[name]
    words = _WORD.findall(name)
    if " " in name or not words:
        return name  # already a presentation, or nothing to split
    rest = [word if len(word) > 1 and word.isupper() else word.lower() for word in words[1:]]
    return " ".join([words[0], *rest])


def parse_1c_json(text: str) -> object:
    """1C's JSON read exactly (shared.jsonexact); what is not JSON is ``onec_not_json``."""
    try:
        return loads_exact(text)
    except NotJSON as exc:  # malformed, NaN/Infinity, nested too deep, an enormous integer
        raise OneCImportError("onec_not_json", json_error=str(exc)) from None


def _documents_in(parsed: object) -> list[object]:
    if isinstance(parsed, list):
        return parsed
    if isinstance(parsed, dict):
        value = parsed.get("#value")
        if "#type" in parsed and isinstance(value, list):
            return value
        for key in _BATCH_KEYS:
            batch = parsed.get(key)
            if isinstance(batch, list):
                return batch
    return [parsed]


def _read_document(
    item: object, position: int, accounting_type: str | None, mapping: DocumentMapping
) -> Document:
    if not isinstance(item, dict):
        raise OneCImportError("onec_not_document", document=position)
    named_type: str | None
    if "#type" in item:
        body, named_type = _xdto_body(item, position)
    else:
        body, named_type = _structure_body(item, position, mapping)
    table, rows = _table_of(body, mapping)
    header = flatten({key: value for key, value in body.items() if key != table})
    lines = [_line_record(row, position, line, table) for line, row in enumerate(rows, start=1)]
    return map_document(
        header,
        lines,
        mapping.header,
        mapping.lines,
        accounting_type or named_type or "",
        position=position,
    )


def _xdto_body(item: Mapping[str, object], position: int) -> tuple[Mapping[str, object], str]:
    type_name = item["#type"]
    kind = type_name.rpartition(":")[2] if isinstance(type_name, str) else ""
    if not kind.startswith(_DOCUMENT_OBJECT):
        raise OneCImportError("onec_not_document_type", document=position, type=shown(type_name))
    body = item.get("#value")
    if not isinstance(body, dict):
        raise OneCImportError("onec_not_document", document=position)
    return body, accounting_type_name(kind)


def _structure_body(
    item: Mapping[str, object], position: int, mapping: DocumentMapping
) -> tuple[Mapping[str, object], str | None]:
    document_fields = {rule.source.split(".")[0] for rule in mapping.header} | set(mapping.tables)
    if not item.keys() & document_fields:
        raise OneCImportError("onec_not_document", document=position)
    for key in _DOCUMENT_TYPE_KEYS:
        named = item.get(key)
        if isinstance(named, str) and named.strip():
            return item, accounting_type_name(named)
    return item, None


def _table_of(body: Mapping[str, object], mapping: DocumentMapping) -> tuple[str, list[object]]:
    """The table that holds the lines: the first of the mapping's tables present."""
    for table in mapping.tables:
        rows = body.get(table)
        if isinstance(rows, list):
            return table, rows
    return "", []


def _line_record(row: object, document: int, line: int, table: str) -> dict[str, object]:
    if not isinstance(row, dict):
        raise OneCImportError("onec_line_invalid", document=document, line=line, field=table)
    return flatten(row)
