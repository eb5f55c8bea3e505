"""Typed records and their stored rows, field by field: the one rule every repository reads
and writes its dataclass records by.

A row holds a record's fields under the same names. Reading, a field with a default takes it
when the row lacks the field (rows an older version wrote); writing, a field whose default is
None is left out while it is None, so rows never hold a null for it. What a record keeps
otherwise (a renamed field, a nested model, a lock) its repository passes by name; a field it
passes as None is not stored.

The field lists are worked out once per record class. The gateway's inbox copy, read by every
poll for each of the device's copies, keeps its own reading by position, which is faster."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from shared.storage.port import Doc

R = TypeVar("R")

_REQUIRED: Any = object()
_BY_FACTORY: Any = object()

# Per record class: (field name, its default, or _REQUIRED, or _BY_FACTORY).
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = tuple((f.name, _default(f)) for f in dataclasses.fields(cls))
    return known


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return _BY_FACTORY
    return _REQUIRED


def record_of(cls: type[R], row: Mapping[str, Any], /, **read: Any) -> R:
    """The record ``cls`` of a stored row; ``read`` gives the fields the row keeps otherwise."""
    values: dict[str, Any] = {}
    for name, default in _fields(cls):
        if name in read:
            values[name] = read[name]
        elif default is _REQUIRED:
            values[name] = row[name]
        elif default is not _BY_FACTORY:
            values[name] = row.get(name, default)
        elif name in row:  # else the dataclass makes its default
            values[name] = row[name]
    return cls(**values)


def row_of(record: Any, /, **written: Any) -> Doc:
    """The stored row of ``record`` (a dataclass); ``written`` gives the fields stored
    otherwise."""
    row: Doc = {}
    for name, default in _fields(type(record)):
        if name in written:
            value = written[name]
            if value is None:
                continue
        else:
            value = getattr(record, name)
            if value is None and default is None:
                continue
        row[name] = value
    return row
