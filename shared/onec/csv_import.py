"""Documents from a CSV table as 1C saves one: UTF-8 with or without BOM, ";" or ","
separated (told from the header row), a header row of 1C field names.

One document per file, or several grouped by a document number column (``group_by``); a row
whose number is empty continues the document above it. Header fields come from the columns the
header rules name — repeated on every row or given on the first only — and from ``header=``
arguments, which fill what the file leaves empty. Every other column belongs to the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.contracts.documents import Document
from shared.onec.errors import OneCImportError, decode_utf8, shown
from shared.onec.mapping import DEFAULT_MAPPING, DocumentMapping, map_document


@dataclass(frozen=True)
class _Row:
    number: int  # its line in the file, for messages
    cells: dict[str, str]


def read_1c_csv(
    data: bytes | str,
    *,
    accounting_type: str,
    header: Mapping[str, object] | None = None,
    group_by: str | None = None,
    rules: DocumentMapping | None = None,
) -> list[Document]:
    """The documents of a CSV export. ``header`` gives header fields by their 1C names
    (``{"Ссылка": …, "Контрагент": …}``); ``group_by`` names the document number column."""
    mapping = rules or DEFAULT_MAPPING
    columns, rows = _read_table(decode_utf8(data))
    if group_by is not None and group_by not in columns:
        raise OneCImportError("onec_csv_missing_column", column=group_by)
    header_columns = _header_columns(columns, mapping, group_by)
    groups = _group(rows, group_by)
    if not groups:
        raise OneCImportError("onec_no_documents")
    return [
        map_document(
            _group_header(group, header_columns, header or {}),
            [_line_cells(row, header_columns) for row in group],
            mapping.header,
            mapping.lines,
            accounting_type,
            position=position,
        )
        for position, group in enumerate(groups, start=1)
    ]


def _read_table(text: str) -> tuple[list[str], list[_Row]]:
    first_line = text.partition("\n")[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise OneCImportError("onec_not_csv", reason=str(exc)) from None
    if not records or not any(cell.strip() for cell in records[0][1]):
        raise OneCImportError("onec_csv_no_header")
    columns = [cell.strip() for cell in records[0][1]]
    for index, column in enumerate(columns):
        if column and column in columns[:index]:
            raise OneCImportError("onec_csv_duplicate_column", column=column)
    rows = []
    for number, cells in records[1:]:
        if not any(cell.strip() for cell in cells):
            continue  # blank rows, as spreadsheets leave at the end
        if any(cell.strip() for cell in cells[len(columns) :]):
            raise OneCImportError("onec_csv_extra_cells", row=number)
        named = {
            column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column
        }
        rows.append(_Row(number, named))
    return columns, rows


def _header_columns(
    columns: Sequence[str], mapping: DocumentMapping, group_by: str | None
) -> list[str]:
    """Columns that belong to the document, in file order; a field both rules name is a line's."""
    line_sources = {rule.source for rule in mapping.lines}
    header_sources = {rule.source for rule in mapping.header} - line_sources
    return [c for c in columns if c == group_by or c in header_sources]


def _group(rows: list[_Row], group_by: str | None) -> list[list[_Row]]:
    if group_by is None:
        return [rows] if rows else []
    groups: dict[str, list[_Row]] = {}
    current: str | None = None
    for row in rows:
        current = row.cells.get(group_by) or current
        if current is None:
            raise OneCImportError("onec_csv_no_number", row=row.number, column=group_by)
        groups.setdefault(current, []).append(row)
    return list(groups.values())


def _group_header(
    group: list[_Row], header_columns: list[str], given: Mapping[str, object]
) -> dict[str, object]:
    found: dict[str, str] = {}
    for row in group:
        for column in header_columns:
            cell = row.cells.get(column, "")
            if cell and found.setdefault(column, cell) != cell:
                raise OneCImportError(
                    "onec_csv_header_mismatch",
                    row=row.number,
                    column=column,
                    value=shown(cell),
                    expected=shown(found[column]),
                )
    return {**given, **found}


def _line_cells(row: _Row, header_columns: list[str]) -> dict[str, object]:
    return {column: cell for column, cell in row.cells.items() if column not in header_columns}
