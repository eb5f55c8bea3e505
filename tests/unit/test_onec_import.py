"""Reading 1C exports (XDTO JSON, structure JSON, CSV) into tsdx documents, and every refusal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts.documents import Document
from shared.errors import Refusal
from shared.onec import (
    DEFAULT_MAPPING,
    DocumentMapping,
    HeaderRule,
    LineRule,
    OneCImportError,
    accounting_type_name,
    looks_like_1c_export,
    map_document,
    read_1c_csv,
    read_1c_json,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "onec"
ORDER_ID = "6f1a2c3e-8b4d-11ef-9a1c-005056b2f3a1"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name), parse_float=Decimal)


def refusal(call: Any, *args: Any, **kwargs: Any) -> OneCImportError:
    with pytest.raises(OneCImportError) as caught:
        call(*args, **kwargs)
    return caught.value


def line_fields(document: Document) -> list[tuple[Any, ...]]:
    return [
        (ln.line_no, ln.product_id, ln.name, ln.article, ln.barcodes, ln.unit, ln.planned_qty)
        for ln in document.lines
    ]


def xdto(
    lines: list[Any], *, kind: str = "ЗаказПоставщику", table: str = "Товары", **header: Any
) -> str:
    body = {"Ref": ORDER_ID, "Number": "0000-000123", **header, table: lines}
    return json.dumps({"#type": f"jcfg:DocumentObject.{kind}", "#value": body}, ensure_ascii=False)


def product(**fields: Any) -> dict[str, Any]:
    return {"LineNumber": "1", "Номенклатура": "e1f20001-8b4d-11ef-9a1c-005056b2f3a1", **fields}


# XDTO form.


def test_xdto_order_header_is_mapped_field_by_field() -> None:
    [document] = read_1c_json(fixture("order_xdto.json"))
    header = document.header
    assert header.accounting_type == "Заказ поставщику"
    assert header.id == ORDER_ID
    assert header.number == "0000-000123"
    assert header.date == "2026-11-28T10:15:00"  # as written, no time zone added
    assert header.counterparty == "ab12cd34-8b4d-11ef-9a1c-005056b2f3a1"  # a bare reference
    assert header.warehouse == "Основной склад"  # a reference with its presentation
    assert header.comment == "Срочно: поставка до 01.12, весовой товар принять по весу"


def test_xdto_order_lines_are_mapped_field_by_field() -> None:
    [document] = read_1c_json(fixture("order_xdto.json"))
    assert line_fields(document) == [
        (
            1,
            "e1f20001-8b4d-11ef-9a1c-005056b2f3a1",
            "Молоко ультрапастеризованное 3,2% 1 л",
            "000012345678901234",
            ["4607001234567", "4607001234574"],
            "шт",
            Decimal("10"),
        ),
        (
            2,
            "e1f20002-8b4d-11ef-9a1c-005056b2f3a1",
            "Сахар-песок весовой",
            "САХ-001",
            ["2200000012346"],
            "кг",
            Decimal("2.250"),
        ),
        (
            3,
            "e1f20003-8b4d-11ef-9a1c-005056b2f3a1",
            "",  # a bare product reference carries no name; the GUID is never used as one
            "00789",
            [],
            "0d0e0f10-8b4d-11ef-9a1c-005056b2f3a1",
            Decimal("5"),
        ),
        (
            4,
            "e1f20004-8b4d-11ef-9a1c-005056b2f3a1",
            "Сыр «Российский» 45%",
            "СЫР-45",
            ["2400000013756"],
            "кг",
            Decimal("1.375"),
        ),
        (
            5,
            "e1f20005-8b4d-11ef-9a1c-005056b2f3a1",
            "",
            "БН-400",
            ["4600000000015"],
            "шт",
            Decimal(24),
        ),
    ]


def test_quantities_are_exact_decimals_and_articles_stay_text() -> None:
    [document] = read_1c_json(fixture("order_xdto.json"))
    weighed = document.lines[1].planned_qty
    assert isinstance(weighed, Decimal)
    assert str(weighed) == "2.250"  # the scale 1C wrote, not a float's approximation
    assert document.lines[0].article == "000012345678901234"
    assert document.model_dump(mode="json")["lines"][1]["planned_qty"] == "2.250"


def test_whatever_no_rule_takes_is_kept_in_extra() -> None:
    [document] = read_1c_json(fixture("order_xdto.json"))
    extra = document.header.extra
    assert extra["Posted"] is True
    assert extra["DeletionMark"] is False
    assert extra["Организация"] == "1b2c3d4e-8b4d-11ef-9a1c-005056b2f3a1"
    assert extra["Склад"] == "5c6d7e8f-8b4d-11ef-9a1c-005056b2f3a1"  # the GUID behind the name
    assert extra["СуммаДокумента"] == Decimal("2187.1675")
    assert extra["ЭтапыГрафикаОплаты"][0]["СуммаПлатежа"] == Decimal("2187.1675")
    for taken in ("Ref", "Number", "Date", "Контрагент", "Склад.Description", "Товары"):
        assert taken not in extra
    first, _, third, *_ = document.lines
    assert first.extra == {
        "ЕдиницаИзмерения": "0d0e0f10-8b4d-11ef-9a1c-005056b2f3a1",
        "Цена": Decimal("120.5"),
        "Сумма": Decimal("1205.00"),
        "СтавкаНДС": "НДС10",
    }
    # A characteristic is a line attribute now: the reference itself, no presentation given.
    assert third.characteristic == "c4c4c4c4-8b4d-11ef-9a1c-005056b2f3a1"
    assert "Характеристика" not in third.extra
    assert third.extra["Цена"] == "45.00"  # text stays text


def test_given_accounting_type_overrides_the_exported_one() -> None:
    [document] = read_1c_json(fixture("order_xdto.json"), accounting_type="Приёмка")
    assert document.header.accounting_type == "Приёмка"


def test_bytes_text_and_byte_order_mark_read_alike() -> None:
    raw = fixture("order_xdto.json")
    expected = read_1c_json(raw)
    assert read_1c_json(raw.decode()) == expected
    assert read_1c_json(b"\xef\xbb\xbf" + raw) == expected
    assert read_1c_json("\ufeff" + raw.decode()) == expected


# Structure form and batches.


def test_structure_export_is_mapped_field_by_field() -> None:
    [document] = read_1c_json(fixture("receipt_structure.json"))
    header = document.header
    assert header.accounting_type == "Поступление товаров и услуг"  # from ВидДокумента
    assert header.id == "7b3c4d5e-8b4d-11ef-9a1c-005056b2f3a1"
    assert header.number == "ПТ-000045"
    assert header.date == "2026-11-29T08:00:00"
    assert header.counterparty == "ООО «Молочный край»"
    assert header.warehouse == "Склад №2 (холодильная камера)"
    assert header.comment == ""
    assert header.extra == {
        "ВидДокумента": "ПоступлениеТоваровУслуг",
        "Контрагент": "ab12cd36-8b4d-11ef-9a1c-005056b2f3a1",
    }
    assert line_fields(document) == [
        (
            1,
            "e1f20011-8b4d-11ef-9a1c-005056b2f3a1",
            "Кефир 2,5% 900 г",
            "000000000000000042",
            ["4601234567890"],
            "шт",
            Decimal("12"),
        ),
        (
            2,
            "e1f20012-8b4d-11ef-9a1c-005056b2f3a1",
            "Творог 9% весовой",
            "ТВ-9",
            ["2200000099998", "2200000099981"],
            "кг",
            Decimal("2.250"),  # written "2,250" with a decimal comma
        ),
    ]
    assert document.lines[1].extra == {"Партия": "от 27.11.2026"}


def test_batch_object_holds_documents_of_both_forms() -> None:
    transfer, count = read_1c_json(fixture("batch.json"))
    assert transfer.header.accounting_type == "Перемещение товаров"
    assert transfer.header.number == "ПМ-000007"
    assert transfer.header.warehouse == "5c6d7e8f-8b4d-11ef-9a1c-005056b2f3a1"  # отправитель
    assert transfer.header.extra["СкладПолучатель"] == "5c6d7e90-8b4d-11ef-9a1c-005056b2f3a1"
    assert [(ln.line_no, ln.planned_qty) for ln in transfer.lines] == [(1, Decimal(6))]
    assert count.header.accounting_type == "Инвентаризация товаров на складе"
    assert count.header.id == "9d5e6f70-8b4d-11ef-9a1c-005056b2f3a1"
    assert [(ln.line_no, ln.planned_qty) for ln in count.lines] == [
        (1, Decimal(0)),
        (2, Decimal(0)),
    ]


def test_json_array_and_xdto_array_are_batches() -> None:
    one = json.loads(xdto([product(Количество=1)]))
    two = json.loads(xdto([product(Количество=2)], Ref="6f1a2c3f-8b4d-11ef-9a1c-005056b2f3a1"))
    as_array = read_1c_json(json.dumps([one, two]))
    as_xdto = read_1c_json(json.dumps({"#type": "jv8:Array", "#value": [one, two]}))
    assert as_array == as_xdto
    assert [d.header.id for d in as_array] == [ORDER_ID, "6f1a2c3f-8b4d-11ef-9a1c-005056b2f3a1"]


def test_typed_table_row_is_read_as_its_value() -> None:
    row = {"#type": "jcfg:DocumentTabularSectionRow.ЗаказПоставщику.Товары", "#value": product()}
    [document] = read_1c_json(xdto([row]))
    assert (document.lines[0].line_no, document.lines[0].extra) == (1, {})


@pytest.mark.parametrize(
    ("metadata_name", "expected"),
    [
        ("ЗаказПоставщику", "Заказ поставщику"),
        ("ПриобретениеТоваровУслуг", "Приобретение товаров и услуг"),
        ("Документ.ЗаказКлиента", "Заказ клиента"),
        ("ВозвратТоваровОтКлиента", "Возврат товаров от клиента"),
        ("ТТНВходящая", "ТТН входящая"),
        ("СчетНаОплатуНДС", "Счет на оплату НДС"),
        ("Сборка_Товаров", "Сборка товаров"),
        ("Заказ поставщику", "Заказ поставщику"),
    ],
)
def test_accounting_type_name(metadata_name: str, expected: str) -> None:
    assert accounting_type_name(metadata_name) == expected


def test_unknown_xdto_document_name_is_split_at_capitals() -> None:
    data = xdto([product()], kind="ВозвратТоваровОтКлиента")
    assert read_1c_json(data)[0].header.accounting_type == "Возврат товаров от клиента"


# Values as 1C writes them.


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (7, Decimal("7")),
        ("2,250", Decimal("2.250")),
        ("1\u00a0234,5", Decimal("1234.5")),  # 1C groups digits with a no-break space
        (" 0.001 ", Decimal("0.001")),
        ("-0", Decimal("0")),
    ],
)
def test_quantity_written_as_text_or_number(written: Any, expected: Decimal) -> None:
    [document] = read_1c_json(xdto([product(Количество=written)]))
    assert document.lines[0].planned_qty == expected


def test_json_number_keeps_its_digits() -> None:
    data = xdto([product()]).replace(
        '"LineNumber"', '"Количество": 123456789012345.123456, "LineNumber"'
    )
    assert str(read_1c_json(data)[0].lines[0].planned_qty) == "123456789012345.123456"


@pytest.mark.parametrize(
    "number", ["0.1000000000000000055", "1234567890123456", "1e5", "1E+1000000"]
)
def test_json_number_beyond_the_quantity_rule_is_refused(number: str) -> None:
    data = xdto([product()]).replace('"LineNumber"', f'"Количество": {number}, "LineNumber"')
    with pytest.raises(OneCImportError) as refused:
        read_1c_json(data)
    assert refused.value.code == "onec_bad_quantity"


def test_barcodes_in_one_text_are_split_and_repeats_dropped() -> None:
    [document] = read_1c_json(
        xdto([product(Штрихкоды="4607001234567; 4607001234574,4607001234567")])
    )
    assert document.lines[0].barcodes == ["4607001234567", "4607001234574"]


def test_empty_1c_reference_counts_as_no_value() -> None:
    empty = "00000000-0000-0000-0000-000000000000"
    [document] = read_1c_json(xdto([product()], Склад=empty, СкладОтправитель="Резервный"))
    assert document.header.warehouse == "Резервный"
    assert document.header.extra["Склад"] == empty  # kept as sent


# The mapping as data, and a business process's own rules.


def test_map_document_with_rules_as_plain_dicts() -> None:
    document = map_document(
        {"Номер": "42", "Поставщик": "ООО «Ромашка»", "Автор": "Иванов"},
        [{"Код": "00-0001", "Кол": "3", "Упаковка": "коробка"}, {"Код": "00-0002"}],
        [
            {"source": "Номер", "target": "id"},
            {"source": "Номер", "target": "number"},
            {"source": "Поставщик", "target": "counterparty"},
            {"source": "Склад", "target": "warehouse", "default": "Основной склад"},
        ],
        [
            {"source": "Код", "target": "product_id"},
            {"source": "Кол", "target": "planned_qty", "default": "1"},
            {"source": "ЕдиницаИзмерения", "target": "unit", "default": "шт"},
        ],
        "Приёмка",
    )
    assert document.header.model_dump() == {
        "accounting_type": "Приёмка",
        "id": "42",
        "number": "42",
        "date": "",
        "counterparty": "ООО «Ромашка»",
        "warehouse": "Основной склад",
        "comment": "",
        "extra": {"Автор": "Иванов"},
    }
    assert [(ln.line_no, ln.product_id, ln.unit, ln.planned_qty) for ln in document.lines] == [
        (1, "00-0001", "шт", Decimal("3")),
        (2, "00-0002", "шт", Decimal("1")),
    ]
    assert document.lines[0].extra == {"Упаковка": "коробка"}


def test_first_rule_whose_source_holds_a_value_wins() -> None:
    rules = [
        HeaderRule(source="Ref", target="id"),
        HeaderRule(source="Партнер", target="counterparty"),
        HeaderRule(source="Контрагент", target="counterparty", default="—"),
    ]
    both = map_document({"Ref": "r", "Партнер": "П", "Контрагент": "К"}, [], rules, [], "Т")
    assert (both.header.counterparty, both.header.extra) == ("П", {"Контрагент": "К"})
    second = map_document({"Ref": "r", "Партнер": "", "Контрагент": "К"}, [], rules, [], "Т")
    assert second.header.counterparty == "К"
    neither = map_document({"Ref": "r"}, [], rules, [], "Т")
    assert neither.header.counterparty == "—"


def test_business_process_rules_replace_the_default_mapping() -> None:
    mapping = DocumentMapping(
        header=(
            HeaderRule(source="Ref", target="id"),
            HeaderRule(source="Партнер", target="counterparty"),
        ),
        lines=(
            LineRule(source="Номенклатура", target="product_id"),
            LineRule(source="КоличествоУпаковок", target="planned_qty"),
            LineRule(source="Упаковка.Description", target="unit"),
        ),
        tables=("Запасы",),
    )
    packed = {
        "Номенклатура": "e1f20001-8b4d-11ef-9a1c-005056b2f3a1",
        "КоличествоУпаковок": 3,
        "Количество": 36,
        "Упаковка": {"Ref": "0d0e0f12-8b4d-11ef-9a1c-005056b2f3a1", "Description": "уп (12 шт)"},
    }
    data = xdto([packed], table="Запасы", Партнер="Ромашка")
    [document] = read_1c_json(data, rules=mapping)
    assert (document.header.counterparty, document.header.number) == ("Ромашка", "")
    assert document.header.extra["Number"] == "0000-000123"
    [line] = document.lines
    assert (line.planned_qty, line.unit) == (Decimal("3"), "уп (12 шт)")
    assert line.extra["Количество"] == 36


def test_default_mapping_is_data_in_the_shape_processes_supply() -> None:
    dumped = DEFAULT_MAPPING.model_dump()
    assert {"source": "Контрагент", "default": None, "target": "counterparty"} in dumped["header"]
    assert {"source": "LineNumber", "default": None, "target": "line_no"} in dumped["lines"]
    assert DocumentMapping.model_validate(dumped) == DEFAULT_MAPPING


def test_rule_naming_no_tsdx_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        HeaderRule.model_validate({"source": "Номер", "target": "номер"})
    with pytest.raises(ValidationError):  # a line field is not a header field
        map_document({"Ref": "r"}, [], [{"source": "Ref", "target": "product_id"}], [], "Т")


# Refusals of JSON input: each names what is wrong and where.


def test_refusal_is_a_value_error_with_a_stable_code() -> None:
    error = refusal(read_1c_json, fixture("broken_empty_ref.json"))
    assert isinstance(error, ValueError)
    assert isinstance(error, Refusal)
    assert (error.code, error.status, error.params) == ("onec_missing_ref", 422, {"document": 1})
    assert error.message("en") == "Document 1: the document reference (GUID) is missing."


def test_not_utf8() -> None:
    error = refusal(read_1c_json, '{"Номер": 1}'.encode("cp1251"))
    assert str(error) == "Данные 1С не в кодировке UTF-8 (неверный байт в позиции 2)."


def test_not_json() -> None:
    error = refusal(read_1c_json, fixture("broken_truncated.json"))
    assert error.code == "onec_not_json"
    assert str(error) == (  # names where the export was cut off, in the reader's language
        "Данные 1С не являются JSON: ожидалось имя поля в двойных кавычках (или лишняя запятая "
        "перед «}») (строка 45, символ 1)."
    )
    assert error.message("en") == (
        "The 1C data is not JSON: Expecting property name enclosed in double quotes: "
        "line 45 column 1 (char 1399)."
    )


def test_json_nested_too_deep() -> None:
    error = refusal(read_1c_json, "[" * 200_000)
    assert str(error) == "Данные 1С не являются JSON: слишком глубокая вложенность."


def test_empty_batch() -> None:
    assert str(refusal(read_1c_json, "[]")) == "В данных 1С нет ни одного документа."


@pytest.mark.parametrize(
    ("data", "document"),
    [
        ('"0000-000123"', 1),
        ('{"Имя": "Иван", "Возраст": 30}', 1),
        (f"[{xdto([product()])}, 42]", 2),
        ('{"#type": "jcfg:DocumentObject.ЗаказПоставщику", "#value": "6f1a"}', 1),
    ],
)
def test_not_a_document(data: str, document: int) -> None:
    error = refusal(read_1c_json, data)
    assert str(error) == (
        f"Элемент {document} не является документом 1С: ожидается объект XDTO «DocumentObject» "
        "или структура с полями документа (Ссылка, Номер, Товары)."
    )


def test_not_a_document_type() -> None:
    error = refusal(read_1c_json, fixture("broken_catalog_object.json"))
    assert (
        str(error)
        == "Элемент 1: объект 1С «jcfg:CatalogObject.Номенклатура» не является документом."
    )
    assert error.message("en") == (
        "Item 1: the 1C object “jcfg:CatalogObject.Номенклатура” is not a document."
    )


def test_missing_reference() -> None:
    error = refusal(read_1c_json, fixture("broken_empty_ref.json"))
    assert str(error) == "Документ 1: не указана ссылка (GUID) документа."
    no_ref = {"Номер": "ПТ-1", "ВидДокумента": "ПоступлениеТоваровУслуг", "Товары": []}
    assert refusal(read_1c_json, json.dumps([no_ref])).params == {"document": 1}


def test_unknown_accounting_type() -> None:
    structure = fixture_json("receipt_structure.json")
    del structure["ВидДокумента"]
    error = refusal(read_1c_json, json.dumps(structure, default=str))
    assert str(error) == "Документ 1: не указан вид документа учётной системы."
    given = read_1c_json(json.dumps(structure, default=str), accounting_type="Приёмка")
    assert given[0].header.accounting_type == "Приёмка"


def test_line_without_product() -> None:
    error = refusal(read_1c_json, fixture("broken_line_without_product.json"))
    assert str(error) == "Документ 1, строка 2: не указана номенклатура."
    assert error.message("en") == "Document 1, line 2: no product is given."


def test_negative_quantity() -> None:
    error = refusal(read_1c_json, fixture("broken_quantities.json"))
    assert str(error) == "Документ 2, строка 2: отрицательное количество -2.5 в поле «Количество»."


@pytest.mark.parametrize("written", ["десять", "1,234.5", "NaN", True, [1]])
def test_non_numeric_quantity(written: Any) -> None:
    error = refusal(read_1c_json, xdto([product(), product(LineNumber="2", Количество=written)]))
    assert error.code == "onec_bad_quantity"
    assert error.params["line"] == 2
    assert str(error) == (
        f"Документ 1, строка 2: количество «{error.params['value']}» в поле «Количество» "
        "не является числом в пределах правила: до 15 цифр до запятой и до 6 после, "
        "без экспоненты."
    )


def test_json_nan_is_not_json() -> None:
    # NaN is not JSON (1C never writes it): refused by the one exact reader, nothing imported.
    data = xdto([product()]).replace('"LineNumber"', '"Количество": NaN, "LineNumber"')
    assert str(refusal(read_1c_json, data)) == ("Данные 1С не являются JSON: NaN не число JSON.")


@pytest.mark.parametrize("written", ["0", "abc", "1.5", -3])
def test_bad_line_number(written: Any) -> None:
    error = refusal(read_1c_json, xdto([product(LineNumber=written)]))
    assert str(error) == (
        f"Документ 1, строка 1: номер строки «{written}» в поле «LineNumber» "
        "должен быть целым числом от 1."
    )


def test_table_row_that_is_not_an_object() -> None:
    error = refusal(read_1c_json, xdto([product(), "строка"]))
    assert str(error) == "Документ 1, строка 2: недопустимое значение в поле «Товары»."


def test_line_value_that_is_not_text() -> None:
    error = refusal(read_1c_json, xdto([product(Артикул=["А-1", "А-2"])]))
    assert str(error) == "Документ 1, строка 1: недопустимое значение в поле «Артикул»."


def test_header_value_that_is_not_text() -> None:
    error = refusal(read_1c_json, xdto([product()], Number=["0000-000123"]))
    assert str(error) == "Документ 1: недопустимое значение в поле «Number»."


def test_header_value_too_long() -> None:
    error = refusal(read_1c_json, xdto([product()], Number="1" * 101))
    assert str(error) == "Документ 1: значение поля «Number» длиннее допустимого (100)."


def test_line_value_too_long() -> None:
    error = refusal(read_1c_json, xdto([product(Наименование="я" * 1001)]))
    assert str(error) == (
        "Документ 1, строка 1: значение поля «Наименование» длиннее допустимого (1000)."
    )
    many = [str(4600000000000 + n) for n in range(101)]
    error = refusal(read_1c_json, xdto([product(Штрихкоды=many)]))
    assert error.params == {"document": 1, "line": 1, "field": "Штрихкоды", "limit": 100}


def test_offending_value_is_quoted_short() -> None:
    error = refusal(read_1c_json, xdto([product(Количество="x" * 500)]))
    assert len(error.params["value"]) == 60
    assert error.params["value"].endswith("…")


# CSV.


def test_csv_grouped_by_number_is_mapped_field_by_field() -> None:
    first, second = read_1c_csv(
        fixture("orders_bom_semicolon.csv"), accounting_type="Заказ поставщику", group_by="Номер"
    )
    assert first.header.model_dump() == {
        "accounting_type": "Заказ поставщику",
        "id": ORDER_ID,
        "number": "0000-000123",
        "date": "28.11.2026 10:15:00",
        "counterparty": "ООО «Ромашка»",
        "warehouse": "Основной склад",
        "comment": "",
        "extra": {},
    }
    assert line_fields(first) == [
        (
            1,
            "e1f20001-8b4d-11ef-9a1c-005056b2f3a1",
            'Молоко "Весёлый молочник" 3,2% 1 л',
            "000012345678901234",
            ["4607001234567", "4607001234574"],
            "шт",
            Decimal("10"),
        ),
        (
            2,
            "e1f20002-8b4d-11ef-9a1c-005056b2f3a1",
            "Сахар-песок весовой",
            "САХ-001",
            ["2200000012346"],
            "кг",
            Decimal("2.250"),
        ),
    ]
    assert first.lines[0].extra == {"Цена": "120,50"}
    assert (second.header.id, second.header.number) == (
        "7a2b3c4d-8b4d-11ef-9a1c-005056b2f3a1",
        "0000-000124",
    )
    assert (second.header.counterparty, second.header.warehouse) == ("ИП Петров А. В.", "Склад №2")
    assert [(ln.product_id, ln.planned_qty, ln.extra) for ln in second.lines] == [
        ("e1f20005-8b4d-11ef-9a1c-005056b2f3a1", Decimal("24"), {}),
    ]


def test_csv_one_document_with_header_given_as_arguments() -> None:
    text = (
        "Номенклатура,Артикул,Количество\n"
        'e1f20001-8b4d-11ef-9a1c-005056b2f3a1,000012345678901234,"2,250"\n'
        "e1f20002-8b4d-11ef-9a1c-005056b2f3a1,00042,1\n"
    )
    [document] = read_1c_csv(
        text,
        accounting_type="Пересчет товаров",
        header={"Ссылка": ORDER_ID, "Номер": "ПР-1", "Склад": "Основной склад"},
    )
    assert (document.header.id, document.header.number, document.header.warehouse) == (
        ORDER_ID,
        "ПР-1",
        "Основной склад",
    )
    assert [(ln.line_no, ln.article, ln.planned_qty) for ln in document.lines] == [
        (1, "000012345678901234", Decimal("2.250")),
        (2, "00042", Decimal("1")),
    ]


def test_csv_columns_win_over_header_arguments() -> None:
    text = "Ссылка;Склад;Номенклатура\nr-1;;p-1\n;Склад №2;p-2\n"
    [document] = read_1c_csv(
        text, accounting_type="Т", header={"Склад": "Основной склад", "Комментарий": "из ТСД"}
    )
    assert (document.header.id, document.header.warehouse, document.header.comment) == (
        "r-1",
        "Склад №2",
        "из ТСД",
    )
    assert [ln.product_id for ln in document.lines] == ["p-1", "p-2"]


def test_csv_rows_of_one_number_join_one_document() -> None:
    text = "Номер;Ссылка;Номенклатура\n1;r-1;p-1\n2;r-2;p-2\n1;;p-3\n"
    first, second = read_1c_csv(text, accounting_type="Т", group_by="Номер")
    assert [ln.product_id for ln in first.lines] == ["p-1", "p-3"]
    assert [ln.product_id for ln in second.lines] == ["p-2"]


def test_csv_extra_cells() -> None:
    error = refusal(read_1c_csv, fixture("broken_extra_cells.csv"), accounting_type="Т")
    assert str(error) == "Файл CSV, строка 3: значений больше, чем колонок в заголовке."


def test_csv_not_utf8() -> None:
    error = refusal(read_1c_csv, "Номенклатура;Количество\n".encode("cp1251"), accounting_type="Т")
    assert str(error) == "Данные 1С не в кодировке UTF-8 (неверный байт в позиции 0)."


@pytest.mark.parametrize("text", ["", "\ufeff", ";;\np-1;1;\n"])
def test_csv_without_header(text: str) -> None:
    error = refusal(read_1c_csv, text, accounting_type="Т")
    assert str(error) == "В файле CSV нет строки заголовка с именами колонок."


def test_csv_with_header_only_holds_no_document() -> None:
    error = refusal(read_1c_csv, "Ссылка;Номенклатура\n\n", accounting_type="Т")
    assert error.code == "onec_no_documents"


def test_csv_broken_quoting() -> None:
    error = refusal(read_1c_csv, 'Номенклатура;Наименование\np-1;"Молоко\n', accounting_type="Т")
    assert str(error) == "Файл CSV не читается: unexpected end of data."


def test_csv_duplicate_column() -> None:
    error = refusal(read_1c_csv, "Номенклатура;Количество;Количество\np;1;2\n", accounting_type="Т")
    assert str(error) == "В заголовке файла CSV колонка «Количество» повторяется."


def test_csv_missing_group_column() -> None:
    error = refusal(
        read_1c_csv, "Ссылка;Номенклатура\nr;p\n", accounting_type="Т", group_by="НомерЗаказа"
    )
    assert str(error) == "В файле CSV нет колонки «НомерЗаказа»."


def test_csv_first_row_without_number() -> None:
    text = "Номер;Ссылка;Номенклатура\n;r-1;p-1\n"
    error = refusal(read_1c_csv, text, accounting_type="Т", group_by="Номер")
    assert str(error) == "Файл CSV, строка 2: не указан номер документа в колонке «Номер»."


def test_csv_header_differing_within_a_document() -> None:
    text = "Номер;Ссылка;Склад;Номенклатура\n1;r-1;Основной;p-1\n1;r-1;Резервный;p-2\n"
    error = refusal(read_1c_csv, text, accounting_type="Т", group_by="Номер")
    assert str(error) == (
        "Файл CSV, строка 3: в колонке «Склад» значение «Резервный», "
        "а в начале документа «Основной»."
    )


def test_csv_line_refusals_name_document_and_line() -> None:
    text = "Номер;Ссылка;Номенклатура;Количество\n1;r-1;p-1;1\n2;r-2;p-2;1\n2;;;3\n"
    error = refusal(read_1c_csv, text, accounting_type="Т", group_by="Номер")
    assert str(error) == "Документ 2, строка 2: не указана номенклатура."
    text = "Ссылка;Номенклатура;Количество\nr-1;p-1;-1,5\n"
    error = refusal(read_1c_csv, text, accounting_type="Т")
    assert str(error) == "Документ 1, строка 1: отрицательное количество -1.5 в поле «Количество»."
    error = refusal(read_1c_csv, "Номенклатура\np-1\n", accounting_type="Т")
    assert error.code == "onec_missing_ref"


def test_characteristic_series_expiry_and_cell_are_read_from_1c_lines() -> None:
    row = product(
        Характеристика={"Ref": "c-1", "Представление": "Вишня"},
        Серия="L042",
        ГоденДо="2027-03-31T00:00:00",
        Ячейка={"Ref": "cell-7", "Наименование": "A-01-1"},
    )
    [document] = read_1c_json(xdto([row]))
    line = document.lines[0]
    assert (line.characteristic, line.series, line.expiry, line.cell) == (
        "Вишня", "L042", "2027-03-31", "A-01-1",
    )  # fmt: skip
    [empty] = read_1c_json(xdto([product(ГоденДо="0001-01-01T00:00:00")]))
    assert empty.lines[0].expiry == ""
    bad = refusal(read_1c_json, xdto([product(ГоденДо="завтра")]))
    assert (bad.code, bad.params["field"]) == ("onec_line_invalid", "ГоденДо")


@pytest.mark.parametrize("name", ["order_xdto.json", "receipt_structure.json", "batch.json"])
def test_a_1c_export_sent_as_tsdx_json_is_recognised(name: str) -> None:
    export = fixture_json(name)
    assert looks_like_1c_export(export)
    assert looks_like_1c_export([export])  # a batch of them


@pytest.mark.parametrize(
    "body",
    [
        {"request_id": "r", "process": "p", "documents": []},  # an upload
        {"header": {"id": "d"}, "lines": []},  # a document
        [{"header": {"id": "d"}, "lines": []}],  # a list of documents
        {"documents": [{"header": {"Номер": "1"}}]},  # Russian only inside
        {"request_id": "r"},  # an upload missing most of itself
        [],
        "text",
    ],
)
def test_tsdx_s_own_json_is_not_taken_for_a_1c_export(body: object) -> None:
    assert not looks_like_1c_export(body)


def test_two_rows_of_one_line_number_are_refused_with_both_places() -> None:
    error = refusal(read_1c_json, xdto([product(), product(), product(LineNumber="1")]))
    assert error.code == "onec_line_no_repeated"
    assert error.message() == (
        "Документ 1: строки 1 и 2 с одним номером строки 1; у каждой строки табличной части "
        "свой номер."
    )
