"""Why a field was refused, in the reader's language: pydantic's reasons said in Russian.

A validation error names its kind (pydantic's ``type``, e.g. ``missing``) and the values of
its rule (``ctx``, e.g. ``min_length``). English keeps pydantic's own text, which is exact;
Russian is said from the kind here. A kind not listed (a validator's own ``value_error``
among them, whose text the validator wrote) keeps pydantic's text in every language. The
numbers are said as «минимум символов: 1», so no word has to agree with them (the quantity's
digits, always 15 or 6, are the one exception).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_DATE_TIME = "должно быть датой и временем, например 2026-12-07T10:30:00+03:00"
_DATE = "должно быть датой, например 2026-12-07"
_NUMBER = "должно быть числом"
_WHOLE = "должно быть целым числом"
_OBJECT = "должно быть объектом JSON"
_TEXT = "должно быть строкой"
_CHOICE = "допустимые значения: {expected}"

REASONS_RU: dict[str, str] = {
    "missing": "обязательное поле не указано",
    "extra_forbidden": "такого поля нет: уберите его",
    "string_type": _TEXT,
    "string_unicode": _TEXT,
    "string_too_short": "минимум символов: {min_length}",
    "string_too_long": "максимум символов: {max_length}",
    "string_pattern_mismatch": "не подходит под шаблон {pattern}",  # or said by its name below
    "too_short": "минимум элементов: {min_length}, указано: {actual_length}",
    "too_long": "максимум элементов: {max_length}, указано: {actual_length}",
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_from_float": "должно быть целым числом, без дробной части",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": "слишком много цифр: можно не больше {max_digits}",
    "decimal_max_places": "слишком много цифр после точки: можно не больше {decimal_places}",
    "decimal_whole_digits": "слишком много цифр до точки: можно не больше {whole_digits}",
    "finite_number": "должно быть конечным числом",
    "bool_type": "должно быть true или false",
    "bool_parsing": "должно быть true или false",
    "greater_than": "должно быть больше {gt}",
    "greater_than_equal": "должно быть не меньше {ge}",
    "less_than": "должно быть меньше {lt}",
    "less_than_equal": "должно быть не больше {le}",
    "multiple_of": "должно быть кратно {multiple_of}",
    "literal_error": _CHOICE,
    "enum": _CHOICE,
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "list_type": "должно быть списком (массивом JSON)",
    "datetime_type": _DATE_TIME,
    "datetime_parsing": _DATE_TIME,
    "datetime_from_date_parsing": _DATE_TIME,
    "timezone_aware": "нужно время с часовым поясом, например 2026-12-07T10:30:00+03:00",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "должно быть датой без времени, например 2026-12-07",
    "uuid_type": "должно быть UUID",
    "uuid_parsing": "должно быть UUID",
    "union_tag_invalid": (
        "значение «{tag}» поля {discriminator} не подходит, допустимые значения: {expected_tags}"
    ),
    "union_tag_not_found": "не указано поле {discriminator}",
    # tsdx's own kinds: a quantity (shared/contracts/quantity.py), its problem said below;
    # the target of a 1C body (services/gateway/onec_upload.py).
    "quantity_invalid": "количество {problem}",
    "one_target": "укажите ровно одного получателя, одним из параметров: {targets}",
    # shared/contracts/documents.py: two lines of one document with one number.
    "line_no_repeated": (
        "документ {document}: номер строки {line_no} повторяется (строки {first} и {second}): "
        "у каждой строки документа свой номер"
    ),
}

# Names tsdx checks by a pattern (shared/contracts/directory.py), said in words: the pattern
# itself is no help to a 1C person.
NAMES_RU: dict[str, str] = {
    "tenant_id": "id базы — строчные латинские буквы, цифры и «-», до 63 знаков, первой — буква "
    "или цифра, например sklad-na-lenina",
    "login": "логин — одно слово до 64 знаков: буквы, цифры и «_.@-»",
    "group": "имя группы — до 100 знаков: буквы, цифры, пробелы и «_.@-», но не с пробела и не с "
    "«.@-»",
}

# A quantity's problems (shared/contracts/quantity.py), by the name its error carries.
QUANTITY_PROBLEMS_RU: dict[str, str] = {
    "not_finite": "не является конечным числом",
    "whole_digits": "содержит больше {digits} цифр до точки",
    "fraction_digits": "содержит больше {digits} цифр после точки",
    "exponent": "записано с экспонентой: запишите его полностью",
    "float_exponent": "записано с экспонентой: запишите его полностью, например 1500 или «1500»",
    "not_number": "должно быть числом или строкой из цифр",
    "not_digits": "должно быть записано цифрами, с точкой при дробной части, например «12.5»",
    "negative": "отрицательное",
}


# What Python's JSON reader says is wrong with a body (its ``JSONDecodeError.msg``, and
# ``loads_exact``'s own words), in Russian; the place is said after it.
JSON_PROBLEMS_RU: dict[str, str] = {
    "Expecting value": "ожидалось значение (пустой текст, лишняя запятая или значение без кавычек)",
    "Expecting property name enclosed in double quotes": (
        "ожидалось имя поля в двойных кавычках (или лишняя запятая перед «}»)"
    ),
    "Expecting ':' delimiter": "ожидалось двоеточие после имени поля",
    "Expecting ',' delimiter": "ожидалась запятая между значениями",
    "Unterminated string starting at": "строка не закрыта кавычкой",
    "Invalid control character at": (
        "в строке управляющий символ: перевод строки или табуляцию запишите как \\n или \\t"
    ),
    "Invalid \\escape": "неверная последовательность после обратной косой черты «\\»",
    "Invalid \\uXXXX escape": "неверная последовательность \\uXXXX",
    "Extra data": "после JSON есть что-то ещё",
    "nested too deeply": "слишком глубокая вложенность",  # shared.jsonexact.NestedTooDeeply
    "an object or an array is expected": "ожидался объект или массив",  # OBJECT_OR_ARRAY_EXPECTED
}
OBJECT_OR_ARRAY_EXPECTED = "an object or an array is expected"
# Python's reader puts the place after its reason: ``Expecting ',' delimiter: line 1 column 9
# (char 8)``.
_JSON_PLACE = re.compile(
    r"^(?P<problem>.*): line (?P<line>\d+) column (?P<column>\d+) \(char \d+\)$"
)
_NOT_UTF8 = "'utf-8' codec can't decode"


def json_reason(error: str, language: str) -> str:
    """What the JSON reader found wrong (``error``, its own words), in ``language``: English
    as the reader said it; Russian said here, with the line and character."""
    if language == "en":
        return error
    if error.startswith(_NOT_UTF8):
        return "текст не в кодировке UTF-8 (в 1С: КодировкаТекста.UTF8)"
    if error.endswith(" is not a JSON number"):  # NaN, Infinity
        return f"{error.split()[0]} не число JSON"
    if error.startswith("Exceeds the limit"):  # an integer of thousands of digits
        return "слишком длинное число"
    placed = _JSON_PLACE.match(error)
    problem = placed["problem"] if placed else error
    where = f" (строка {placed['line']}, символ {placed['column']})" if placed else ""
    return JSON_PROBLEMS_RU.get(problem, problem) + where


def validation_reason(error: Mapping[str, Any], language: str) -> str:
    """Why pydantic refused one field (``error``, one of ``ValidationError.errors()``), said
    in ``language``; pydantic's own text where Russian has no words for it."""
    own = str(error.get("msg", ""))
    if error.get("type") == "json_invalid":  # FastAPI's "JSON decode error" says not why
        reason = json_reason(str((error.get("ctx") or {}).get("error", "")), language)
        return f"not JSON: {reason}" if language == "en" else f"это не JSON: {reason}"
    if error.get("type") == "extra_forbidden" and _in_a_document(error.get("loc", ())):
        # A 1C integrator's own field of a document's header or line has its place: ``extra``.
        return (
            f"{own}: a document's own fields go in its `extra`"
            if language == "en"
            else "такого поля нет: уберите его или перенесите в extra, где документ несёт свои поля"
        )
    template = None if language == "en" else REASONS_RU.get(str(error.get("type")))
    if template is None:
        return own
    values = {name: _said(value) for name, value in (error.get("ctx") or {}).items()}
    if error.get("type") == "string_pattern_mismatch" and values.get("name") in NAMES_RU:
        return NAMES_RU[values["name"]]
    try:
        if error.get("type") == "quantity_invalid":
            values["problem"] = QUANTITY_PROBLEMS_RU[values["problem"]].format(**values)
        return template.format(**values)
    except (KeyError, IndexError):  # a value pydantic did not give, a problem not listed
        return own


def _in_a_document(loc: Sequence[Any]) -> bool:
    """Whether a place is a field of a document's header or of one of its lines (the parts
    that carry ``extra``): ``…header.Склад``, ``…lines.2.Склад``."""
    parent = loc[-2] if len(loc) >= 2 else None
    return parent == "header" or (isinstance(parent, int) and len(loc) >= 3 and loc[-3] == "lines")


def _said(value: Any) -> Any:
    # pydantic lists choices as "'a', 'b' or 'c'"; the rest of the sentence is Russian.
    return value.replace("' or '", "' или '") if isinstance(value, str) else value
