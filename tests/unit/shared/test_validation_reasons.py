"""A refused field's reason in the reader's language: pydantic's kinds said in Russian."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.contracts.carried import CarriedDocument
from shared.contracts.directory import Login, TenantId
from shared.contracts.documents import Document
from shared.contracts.quantity import Quantity, quantity_problems
from shared.contracts.uploads import UploadRequested
from shared.errors import carried, describe
from shared.http import error_body
from shared.i18n_validation import (
    QUANTITY_PROBLEMS_RU,
    REASONS_RU,
    json_reason,
    validation_reason,
)
from shared.jsonexact import NotJSON, loads_exact


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=2, max_length=4)
    count: int = Field(ge=1)
    kind: Literal["pin", "device", "group"] = "pin"
    at: datetime | None = None
    qty: Quantity = Decimal(0)
    tags: list[str] = Field(default_factory=list, max_length=1)


def _errors(**values: Any) -> list[Any]:
    with pytest.raises(ValidationError) as caught:
        _Line.model_validate(values)
    return caught.value.errors()


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"count": 1}, "обязательное поле не указано"),
        ({"code": "x", "count": 1}, "минимум символов: 2"),
        ({"code": "xxxxx", "count": 1}, "максимум символов: 4"),
        ({"code": 5, "count": 1}, "должно быть строкой"),
        ({"code": "ab", "count": 0}, "должно быть не меньше 1"),
        ({"code": "ab", "count": "many"}, "должно быть целым числом"),
        (
            {"code": "ab", "count": 1, "kind": "pinn"},
            "допустимые значения: 'pin', 'device' или 'group'",
        ),
        (
            {"code": "ab", "count": 1, "at": "yesterday"},
            "должно быть датой и временем, например 2026-12-07T10:30:00+03:00",
        ),
        ({"code": "ab", "count": 1, "qty": "-1"}, "количество отрицательное"),
        (
            {"code": "ab", "count": 1, "qty": "1e3"},
            "количество должно быть записано цифрами, с точкой при дробной части, например «12.5»",
        ),
        (
            {"code": "ab", "count": 1, "qty": "1.1234567"},
            "количество содержит больше 6 цифр после точки",
        ),
        ({"code": "ab", "count": 1, "tags": ["a", "b"]}, "максимум элементов: 1, указано: 2"),
        ({"code": "ab", "count": 1, "nick": "x"}, "такого поля нет: уберите его"),
    ],
)
def test_each_kind_is_said_in_russian_with_its_rule(values: dict[str, Any], said: str) -> None:
    [error] = _errors(**values)
    assert validation_reason(error, "ru") == said
    assert validation_reason(error, "en") == error["msg"]  # pydantic's own, unchanged


def test_every_problem_of_a_quantity_has_its_russian() -> None:
    assert set(QUANTITY_PROBLEMS_RU) == set(quantity_problems())


def test_a_decimal_s_digits_are_said_with_their_bound() -> None:
    class Factor(BaseModel):
        factor: Decimal = Field(max_digits=8, decimal_places=3)

    said = {}
    for value in ("1.2345", "123456.1", "123456789"):
        with pytest.raises(ValidationError) as caught:
            Factor.model_validate({"factor": value})
        [error] = caught.value.errors()
        said[error["type"]] = validation_reason(error, "ru")
    assert said == {
        "decimal_max_places": "слишком много цифр после точки: можно не больше 3",
        "decimal_whole_digits": "слишком много цифр до точки: можно не больше 5",
        "decimal_max_digits": "слишком много цифр: можно не больше 8",
    }


def test_a_kind_with_no_russian_words_keeps_pydantic_s_text() -> None:
    error = {"type": "value_error", "msg": "Value error, nested too deeply", "ctx": {}}
    assert "value_error" not in REASONS_RU
    assert validation_reason(error, "ru") == "Value error, nested too deeply"


def test_a_rule_value_missing_from_the_error_falls_back_to_pydantic_s_text() -> None:
    # A kind whose template needs a value the error does not carry is not said half-filled.
    error = {"type": "greater_than", "msg": "Input should be greater than 0", "ctx": {}}
    assert validation_reason(error, "ru") == "Input should be greater than 0"
    unknown = {"type": "quantity_invalid", "msg": "quantity is odd", "ctx": {"problem": "odd"}}
    assert validation_reason(unknown, "ru") == "quantity is odd"


def test_describe_names_the_fields_in_order_and_counts_the_rest() -> None:
    errors = _errors(code="x", count=0, kind="x", nick="y")
    assert describe(errors, "ru") == (
        "code: минимум символов: 2; count: должно быть не меньше 1; "
        "kind: допустимые значения: 'pin', 'device' или 'group'; (+1)"
    )
    assert describe(errors, "en", limit=1).startswith("code: String should have at least 2")
    assert describe([], "ru") == ""


def test_problems_carried_across_the_broker_are_said_at_the_edge() -> None:
    with pytest.raises(ValidationError) as caught:
        _Line.model_validate({"count": 0, "kind": "x"})
    # As JSON, as an RPC refusal carries them from the service that checked.
    problems = orjson.loads(orjson.dumps(carried(caught.value, prefix=("lines[2]",))))
    assert describe(problems, "ru") == (
        "lines[2].code: обязательное поле не указано; lines[2].count: должно быть не меньше 1; "
        "lines[2].kind: допустимые значения: 'pin', 'device' или 'group'"
    )
    refused = error_body("validation_error", "en", {"details": "-", "problems": problems})
    assert refused["params"]["details"].startswith("lines[2].code: Field required; ")
    assert refused["message"].startswith("Invalid request: lines[2].code: Field required")


def test_a_problem_of_the_whole_value_is_placed_at_its_root() -> None:
    with pytest.raises(ValidationError) as caught:
        _Line.model_validate([1])
    [problem] = carried(caught.value, root="(line)")
    assert problem["loc"] == ["(line)"]
    assert describe([problem], "ru") == "(line): должно быть объектом JSON"


def test_a_name_checked_by_a_pattern_is_said_in_words() -> None:
    class _Names(BaseModel):
        tenant: TenantId
        login: Login

    with pytest.raises(ValidationError) as caught:
        _Names.model_validate({"tenant": "Ленина 2", "login": "два слова"})
    tenant, login = caught.value.errors()
    assert validation_reason(tenant, "ru").startswith("id базы — строчные латинские буквы")
    assert validation_reason(login, "ru").startswith("логин — одно слово")
    assert validation_reason(tenant, "en") == tenant["msg"]  # the pattern, in English


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"a": 1 "b": 2}', "ожидалась запятая между значениями (строка 1, символ 9)"),
        (
            b'{"a": 1,}',
            "ожидалось имя поля в двойных кавычках (или лишняя запятая перед «}») "
            "(строка 1, символ 9)",
        ),
        (b'{"a": "x', "строка не закрыта кавычкой (строка 1, символ 7)"),
        (b"{} x", "после JSON есть что-то ещё (строка 1, символ 4)"),
        (b'{"a": NaN}', "NaN не число JSON"),
        (
            '{"a": "Заказ"}'.encode("cp1251"),
            "текст не в кодировке UTF-8 (в 1С: КодировкаТекста.UTF8)",
        ),
        (b"[" * 200_000, "слишком глубокая вложенность"),
        (b"1" * 5_000, "слишком длинное число"),
    ],
)
def test_a_body_that_is_not_json_is_said_why_and_where_in_russian(body: bytes, said: str) -> None:
    with pytest.raises(NotJSON) as caught:
        loads_exact(body)
    reader_said = str(caught.value)
    assert json_reason(reader_said, "ru") == said
    assert json_reason(reader_said, "en") == reader_said  # the reader's own words
    # As FastAPI reports a body it cannot read: at the body, not at a character of it.
    error = {"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error",
             "input": {}, "ctx": {"error": reader_said}}  # fmt: skip
    assert describe([error], "ru") == f"body: это не JSON: {json_reason(reader_said, 'ru')}"
    assert describe([error], "en") == f"body: not JSON: {reader_said}"


def test_a_field_a_document_does_not_have_is_pointed_to_its_extra() -> None:
    with pytest.raises(ValidationError) as caught:
        Document.model_validate(
            {
                "header": {"id": "x", "accounting_type": "Заказ", "Склад": "Основной"},
                "lines": [{"line_no": 1, "product_id": "p", "Ячейка": "A-01"}],
                "Организация": "ООО",
            }
        )
    said = describe(caught.value, "ru")
    pointed = "такого поля нет: уберите его или перенесите в extra, где документ несёт свои поля"
    assert said == (
        f"header.Склад: {pointed}; lines.0.Ячейка (1-я строка): {pointed}; "
        "Организация: такого поля нет: уберите его"  # the document itself has no extra
    )
    assert describe(caught.value, "en").startswith(
        "header.Склад: Extra inputs are not permitted: a document's own fields go in its `extra`"
    )


def test_a_place_in_a_list_is_also_said_counted_from_one_in_russian() -> None:
    error = {"type": "missing", "loc": ("body", "documents", 1, "lines", 4, "product_id")}
    assert describe([error], "ru") == (
        "body.documents.1.lines.4.product_id (документ 2, 5-я строка): обязательное поле не указано"
    )
    assert describe([{**error, "msg": "Field required"}], "en") == (
        "body.documents.1.lines.4.product_id: Field required"  # the path alone, as it was
    )


def test_two_lines_of_one_number_are_refused_where_a_document_comes_in() -> None:
    lines = [{"line_no": n, "product_id": p} for n, p in ((1, "milk"), (2, "bags"), (1, "salt"))]
    document = {"header": {"id": "x", "accounting_type": "Заказ"}, "lines": lines}
    upload = {"request_id": "r", "process": "p", "target": {"kind": "pin", "value": "1"}}
    with pytest.raises(ValidationError) as caught:
        UploadRequested.model_validate({**upload, "documents": [document, document]})
    assert describe(caught.value, "ru") == (
        "(root): документ 1: номер строки 1 повторяется (строки 1 и 3): у каждой строки "
        "документа свой номер"
    )
    # A document kept before the rule is read again as it was (its result still completes).
    assert len(CarriedDocument.model_validate(document).lines) == 3
