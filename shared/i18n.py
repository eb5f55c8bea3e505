"""Every user-facing message, by stable code, in Russian (default) and English.

A refusal travels as a code and parameters; the text is rendered at the edge, in the
language the caller asked for.
"""

from __future__ import annotations

from typing import Any, Literal

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")

MESSAGES: dict[str, dict[Language, str]] = {
    # Routing refusals.
    "device_not_found_by_pin": {
        "ru": "Устройство по пин-коду не найдено! Документы не выгружены в ТСД.",
        "en": "No device found by this PIN! The documents were not uploaded to the terminal.",
    },
    "device_not_found": {
        "ru": "Устройство не найдено или не принадлежит этой базе.",
        "en": "The device was not found or does not belong to this base.",
    },
    "device_not_active": {
        "ru": "Устройство {pin} заблокировано или выведено из работы.",
        "en": "Device {pin} is blocked or retired.",
    },
    "process_not_found": {
        "ru": "Бизнес-процесс «{process}» не найден.",
        "en": "Business process “{process}” was not found.",
    },
    "process_disabled": {
        "ru": "Бизнес-процесс «{process}» отключён.",
        "en": "Business process “{process}” is disabled.",
    },
    "wrong_source_type": {
        "ru": "Документ «{actual}» не подходит для бизнес-процесса: ожидается «{expected}».",
        "en": "Document type “{actual}” does not suit the business process: expected “{expected}”.",
    },
    "no_documents": {
        "ru": "В запросе нет документов.",
        "en": "The request holds no documents.",
    },
    "target_not_allowed_on_channel": {
        "ru": "Получатель вида «{target}» недоступен для канала «{channel}»: через интернет "
        "документы выгружаются только на устройства, по локальной сети — пользователям и группам.",
        "en": "A target of kind “{target}” is not allowed on the “{channel}” channel: the internet "
        "delivers to devices only, the local network to users and groups.",
    },
    "target_incomplete": {
        "ru": "Не указан получатель вида «{target}».",
        "en": "The “{target}” target names no one.",
    },
    "assignee_not_allowed": {
        "ru": "Бизнес-процесс «{process}» выгружает документы только для «{assignee}» "
        "или на устройство.",
        "en": "Business process “{process}” delivers documents only to “{assignee}” "
        "or to a device.",
    },
    "device_required": {
        "ru": "Бизнес-процесс «{process}» выгружает документы только на устройство: "
        "укажите устройство.",
        "en": "Business process “{process}” delivers documents to a device only: name the device.",
    },
    "no_device_available": {
        "ru": "Нет ни одного доступного устройства для бизнес-процесса «{process}».",
        "en": "No device is available for business process “{process}”.",
    },
    "device_not_chosen": {
        "ru": "Доступно устройств: {count}. Выберите устройство для выгрузки.",
        "en": "{count} devices are available. Choose the device to upload to.",
    },
    "group_is_empty": {
        "ru": "В группе «{group}» нет пользователей: документы не выгружены.",
        "en": "Group “{group}” has no users: the documents were not uploaded.",
    },
    "no_users": {
        "ru": "Нет ни одного пользователя: документы не выгружены.",
        "en": "There are no users: the documents were not uploaded.",
    },
    "process_file_invalid": {
        "ru": "Файл бизнес-процессов не принят: {details}",
        "en": "The business process file was refused: {details}",
    },
    # Result refusals.
    "quantity_over_plan": {
        "ru": "Строка {line}: количество {fact} больше плана {planned}.",
        "en": "Line {line}: quantity {fact} is above the plan of {planned}.",
    },
    "product_not_in_plan": {
        "ru": "Товара «{product}» нет в плане документа, а контроль количества включён.",
        "en": "Product “{product}” is not in the document's plan and quantity control is on.",
    },
    "fact_line_unknown": {
        "ru": "В документе нет строки {line}.",
        "en": "The document has no line {line}.",
    },
    # HTTP edge.
    "unauthorized": {
        "ru": "Нет доступа: неверный или отсутствующий ключ.",
        "en": "Not authorised: the key is missing or wrong.",
    },
    "validation_error": {
        "ru": "Ошибка в запросе: {details}",
        "en": "Invalid request: {details}",
    },
    "not_found": {
        "ru": "Не найдено.",
        "en": "Not found.",
    },
    "body_too_large": {
        "ru": "Запрос слишком велик: не более {limit} байт.",
        "en": "The request is too large: at most {limit} bytes.",
    },
    "too_many_pin_misses": {
        "ru": "Слишком много неверных пин-кодов. Повторите через {retry_after} с.",
        "en": "Too many wrong PINs. Try again in {retry_after} s.",
    },
    "broker_unavailable": {
        "ru": "Сервер обмена временно недоступен, повторите запрос позже.",
        "en": "The exchange server is temporarily unavailable; retry later.",
    },
    "bad_connection_code": {
        "ru": "Неверный код подключения к базе.",
        "en": "Wrong connection code.",
    },
    "document_in_work": {
        "ru": "Документ {number} уже в работе на терминале. Чтобы заменить его, отзовите документ.",
        "en": "Document {number} is already being worked on. Recall it to replace it.",
    },
    "document_withdrawn": {
        "ru": "Документ отозван с терминала.",
        "en": "The document was withdrawn from the terminal.",
    },
    "document_already_finished": {
        "ru": "Документ уже завершён.",
        "en": "The document is already finished.",
    },
    "too_many_documents": {
        "ru": "Слишком много документов в одной выгрузке: не более {limit}.",
        "en": "Too many documents in one upload: at most {limit}.",
    },
    "too_many_lines": {
        "ru": "Слишком много строк в документе {document}: не более {limit}.",
        "en": "Too many lines in document {document}: at most {limit}.",
    },
    "tenant_exists": {
        "ru": "База «{tenant}» уже существует.",
        "en": "Base “{tenant}” already exists.",
    },
    "device_blocked": {
        "ru": "Устройство {pin} заблокировано.",
        "en": "Device {pin} is blocked.",
    },
    "pin_space_exhausted": {
        "ru": "Не удалось выдать пин-код, повторите регистрацию.",
        "en": "Could not issue a PIN; register again.",
    },
    "forbidden": {
        "ru": "Действие запрещено.",
        "en": "Forbidden.",
    },
    "method_not_allowed": {
        "ru": "Метод не поддерживается.",
        "en": "Method not allowed.",
    },
    "bad_request": {
        "ru": "Неверный запрос: {reason}",
        "en": "Bad request: {reason}",
    },
    "unknown_method": {
        "ru": "Неизвестный метод: {method}",
        "en": "Unknown method: {method}",
    },
    "internal_error": {
        "ru": "Внутренняя ошибка сервера.",
        "en": "Internal server error.",
    },
    # Import of documents exported from 1C (shared/onec). A document is named by its place in
    # the export, a line by its place in the document's table, both counted from 1.
    "onec_not_utf8": {
        "ru": "Данные 1С не в кодировке UTF-8 (неверный байт в позиции {position}).",
        "en": "The 1C data is not UTF-8 (invalid byte at position {position}).",
    },
    "onec_not_json": {
        "ru": "Данные 1С не являются JSON: {reason}.",
        "en": "The 1C data is not JSON: {reason}.",
    },
    "onec_no_documents": {
        "ru": "В данных 1С нет ни одного документа.",
        "en": "The 1C data holds no document.",
    },
    "onec_not_document": {
        "ru": "Элемент {document} не является документом 1С: ожидается объект XDTO "
        "«DocumentObject» или структура с полями документа (Ссылка, Номер, Товары).",
        "en": "Item {document} is not a 1C document: expected an XDTO “DocumentObject” "
        "or a structure with document fields (Ссылка, Номер, Товары).",
    },
    "onec_not_document_type": {
        "ru": "Элемент {document}: объект 1С «{type}» не является документом.",
        "en": "Item {document}: the 1C object “{type}” is not a document.",
    },
    "onec_missing_ref": {
        "ru": "Документ {document}: не указана ссылка (GUID) документа.",
        "en": "Document {document}: the document reference (GUID) is missing.",
    },
    "onec_unknown_type": {
        "ru": "Документ {document}: не указан вид документа учётной системы.",
        "en": "Document {document}: the accounting document type is not given.",
    },
    "onec_header_invalid": {
        "ru": "Документ {document}: недопустимое значение в поле «{field}».",
        "en": "Document {document}: invalid value in field “{field}”.",
    },
    "onec_header_too_long": {
        "ru": "Документ {document}: значение поля «{field}» длиннее допустимого ({limit}).",
        "en": "Document {document}: the value of field “{field}” is longer than {limit}.",
    },
    "onec_line_without_product": {
        "ru": "Документ {document}, строка {line}: не указана номенклатура.",
        "en": "Document {document}, line {line}: no product is given.",
    },
    "onec_bad_line_no": {
        "ru": "Документ {document}, строка {line}: номер строки «{value}» в поле «{field}» "
        "должен быть целым числом от 1.",
        "en": "Document {document}, line {line}: line number “{value}” in field “{field}” "
        "must be a whole number from 1.",
    },
    "onec_bad_quantity": {
        "ru": "Документ {document}, строка {line}: количество «{value}» в поле «{field}» "
        "не является числом.",
        "en": "Document {document}, line {line}: quantity “{value}” in field “{field}” "
        "is not a number.",
    },
    "onec_negative_quantity": {
        "ru": "Документ {document}, строка {line}: отрицательное количество {value} "
        "в поле «{field}».",
        "en": "Document {document}, line {line}: negative quantity {value} in field “{field}”.",
    },
    "onec_line_invalid": {
        "ru": "Документ {document}, строка {line}: недопустимое значение в поле «{field}».",
        "en": "Document {document}, line {line}: invalid value in field “{field}”.",
    },
    "onec_line_too_long": {
        "ru": "Документ {document}, строка {line}: значение поля «{field}» длиннее "
        "допустимого ({limit}).",
        "en": "Document {document}, line {line}: the value of field “{field}” is longer "
        "than {limit}.",
    },
    "onec_not_csv": {
        "ru": "Файл CSV не читается: {reason}.",
        "en": "The CSV file cannot be read: {reason}.",
    },
    "onec_csv_no_header": {
        "ru": "В файле CSV нет строки заголовка с именами колонок.",
        "en": "The CSV file has no header row with column names.",
    },
    "onec_csv_duplicate_column": {
        "ru": "В заголовке файла CSV колонка «{column}» повторяется.",
        "en": "Column “{column}” appears twice in the CSV header.",
    },
    "onec_csv_missing_column": {
        "ru": "В файле CSV нет колонки «{column}».",
        "en": "The CSV file has no column “{column}”.",
    },
    "onec_csv_extra_cells": {
        "ru": "Файл CSV, строка {row}: значений больше, чем колонок в заголовке.",
        "en": "CSV file, line {row}: more values than header columns.",
    },
    "onec_csv_no_number": {
        "ru": "Файл CSV, строка {row}: не указан номер документа в колонке «{column}».",
        "en": "CSV file, line {row}: no document number in column “{column}”.",
    },
    "onec_csv_header_mismatch": {
        "ru": "Файл CSV, строка {row}: в колонке «{column}» значение «{value}», а в начале "
        "документа «{expected}».",
        "en": "CSV file, line {row}: column “{column}” holds “{value}” but the document "
        "began with “{expected}”.",
    },
}


def render(code: str, language: str = "ru", params: dict[str, Any] | None = None) -> str:
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    template = texts["en"] if language == "en" else texts["ru"]
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError):
        return template


def pick_language(accept_language: str | None, default: Language = "ru") -> Language:
    """The first supported language in an Accept-Language header, by order of appearance."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for pos, part in enumerate(accept_language.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, pos, tag.strip().lower()[:2]))
    for _, _, lang in sorted(ranked):
        for supported in LANGUAGES:
            if lang == supported:
                return supported
    return default
