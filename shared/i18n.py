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
    "internal_error": {
        "ru": "Внутренняя ошибка сервера.",
        "en": "Internal server error.",
    },
}


def render(code: str, language: str = "ru", params: dict[str, Any] | None = None) -> str:
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    template = texts.get(language) or texts["ru"]  # type: ignore[call-overload]
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
        if lang in LANGUAGES:
            return lang  # type: ignore[return-value]
    return default
