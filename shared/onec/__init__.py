"""Documents as 1C:Enterprise exports them (JSON, CSV), mapped to tsdx documents."""

from shared.onec.csv_import import read_1c_csv
from shared.onec.errors import OneCImportError
from shared.onec.json_import import accounting_type_name, looks_like_1c_export, read_1c_json
from shared.onec.mapping import (
    DEFAULT_MAPPING,
    DocumentMapping,
    HeaderRule,
    LineRule,
    flatten,
    map_document,
)

__all__ = [
    "DEFAULT_MAPPING",
    "DocumentMapping",
    "HeaderRule",
    "LineRule",
    "OneCImportError",
    "accounting_type_name",
    "flatten",
    "looks_like_1c_export",
    "map_document",
    "read_1c_csv",
    "read_1c_json",
]
