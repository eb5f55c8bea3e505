"""Every user-facing message, by stable code, in Russian (default) and English.

A refusal travels as a code and parameters; the text is rendered at the edge, in the
language the caller asked for. The words of tsdx's own screens (the command line, the
dashboard) live in :mod:`shared.i18n_ui` and are rendered the same way: one catalog.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from shared.i18n_ui import UI_TEXTS
from shared.i18n_validation import json_reason
from shared.journey import STEPS, step_label_code

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")

# A table: its entries look alike, as do i18n_ui.py's, and a word may stand under two keys
# (a CLI word, a dashboard label, a journey step) because each screen may come to say it its own
# way.
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
        "ru": "Бизнес-процесс «{process}» не найден{nearest}.",
        "en": "Business process “{process}” was not found{nearest}.",
    },
    "process_disabled": {
        "ru": "Бизнес-процесс «{process}» отключён.",
        "en": "Business process “{process}” is disabled.",
    },
    "wrong_source_type": {
        "ru": "Документ {document} запроса («{actual}») не подходит для бизнес-процесса: "
        "ожидается «{expected}».",
        "en": "Document {document} of the request (“{actual}”) does not suit the business "
        "process: expected “{expected}”.",
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
    "fact_line_other_product": {
        "ru": "Строка {line} документа — товар «{planned}», а результат считает на ней "
        "«{product}».",
        "en": "Line {line} of the document is product “{planned}”, but the result counts "
        "“{product}” on it.",
    },
    # HTTP edge.
    "unauthorized": {
        "ru": "Нет доступа: неверный или отсутствующий ключ.",
        "en": "Not authorised: the key is missing or wrong.",
    },
    "quantity_total_too_large": {
        "ru": "Строка {line}, товар «{product}»: сумма количеств больше {limit}.",
        "en": "Line {line}, product “{product}”: the quantities add up to more than {limit}.",
    },
    "quantity_invalid": {
        "ru": "Недопустимое количество: {details}. Количество пишется полностью: до 15 цифр "
        "до точки и до 6 после, без экспоненты (строкой «12.5» или числом 12.5).",
        "en": "Invalid quantity: {details}. A quantity is written in full: up to 15 digits "
        'before the point and 6 after, no exponent (as the string "12.5" or the number 12.5).',
    },
    # The code is "validation_error"; the message says how to send a 1C export instead.
    "onec_json_sent_as_tsdx": {
        "ru": "Похоже на выгрузку 1С, отправленную как JSON tsdx. Отправьте её с заголовком "
        "Content-Type: application/vnd.1c+json (или с параметром ?format=1c-json), а "
        "request_id, процесс и получателя — параметрами адреса (?request_id=…&process=…&pin=…).",
        "en": "This looks like a 1C export sent as tsdx's JSON. Send it with Content-Type: "
        "application/vnd.1c+json (or ?format=1c-json), and the request_id, process and target "
        "as query parameters (?request_id=…&process=…&pin=…).",
    },
    "validation_error": {
        "ru": "Ошибка в запросе: {details}",
        "en": "Invalid request: {details}",
    },
    "not_found": {
        "ru": "Не найдено.",
        "en": "Not found.",
    },
    # The code is "unauthorized"; the message says which credential (services/gateway/auth.py).
    "api_key_wrong": {
        "ru": "Нет доступа: неверный или отсутствующий ключ API базы (заголовок Authorization: "
        "Bearer <ключ>; для команды tsdx — TSDX_API_KEY).",
        "en": "Not authorised: the base's API key is missing or wrong (header Authorization: "
        "Bearer <key>; for the tsdx command, TSDX_API_KEY).",
    },
    # The code is "unauthorized"; the message says which credential (shared/http.py).
    "admin_token_wrong": {
        "ru": "Нет доступа: неверный или отсутствующий токен администратора (TSDX_ADMIN_TOKEN "
        "на сервере).",
        "en": "Not authorised: the admin token (TSDX_ADMIN_TOKEN on the server) is missing or "
        "wrong.",
    },
    "upload_not_found": {
        "ru": "Выгрузка с ключом {request_id} в этой базе не найдена: она не отправлялась или "
        "ещё ждёт первого ответа.",
        "en": "No upload with the request id {request_id} in this base: it was never sent, or "
        "is still waiting for its first answer.",
    },
    "result_not_found": {
        "ru": "Результата по документу {document_id} в этой базе нет: документ не завершён на "
        "ТСД или это не идентификатор документа 1С (не номер).",
        "en": "No result for the document {document_id} in this base: it is not finished on a "
        "terminal, or this is not the 1C document's id (not its number).",
    },
    "body_too_large": {
        "ru": "Запрос слишком велик: не более {limit} байт.",
        "en": "The request is too large: at most {limit} bytes.",
    },
    # The catalog (справочники): the batch as a whole, and each wrong item.
    "catalog_invalid": {
        "ru": "Справочники не загружены: ошибок в данных — {total}. Ничего не изменено.",
        "en": "The catalog was not loaded: {total} errors in the data. Nothing was changed.",
    },
    "catalog_item_batch": {"ru": "Пакет", "en": "Batch"},
    "catalog_item_product": {"ru": "Товар №{position}", "en": "Product #{position}"},
    "catalog_item_warehouse": {"ru": "Склад №{position}", "en": "Warehouse #{position}"},
    "catalog_item_cell": {"ru": "Ячейка №{position}", "en": "Cell #{position}"},
    "catalog_not_object": {
        "ru": "{item}: ожидается объект JSON.",
        "en": "{item}: a JSON object is expected.",
    },
    "catalog_not_list": {
        "ru": "{item}: поле «{field}» должно быть массивом.",
        "en": "{item}: the field “{field}” must be an array.",
    },
    "catalog_too_many_items": {
        "ru": "{item}: не более {limit} элементов за один вызов; разделите выгрузку на части.",
        "en": "{item}: at most {limit} items in one call; send the catalog in parts.",
    },
    "catalog_field_missing": {
        "ru": "{item}: не заполнено поле «{field}».",
        "en": "{item}: the field “{field}” is missing.",
    },
    "catalog_field_type": {
        "ru": "{item}: поле «{field}» имеет неверный тип.",
        "en": "{item}: the field “{field}” has the wrong type.",
    },
    "catalog_field_invalid": {
        "ru": "{item}: неверное значение поля «{field}» ({reason}).",
        "en": "{item}: the field “{field}” is invalid ({reason}).",
    },
    "catalog_too_many_barcodes": {
        "ru": "{item}: не более {limit} штрихкодов у одного товара.",
        "en": "{item}: at most {limit} barcodes per product.",
    },
    "catalog_id_duplicate": {
        "ru": "{item}: этот идентификатор уже встречается в пакете.",
        "en": "{item}: this id is already in the batch.",
    },
    "catalog_barcode_duplicate": {
        "ru": "{item}: штрихкод {barcode} уже принадлежит «{other}».",
        "en": "{item}: barcode {barcode} already belongs to “{other}”.",
    },
    "catalog_bad_delete": {
        "ru": "{item}: в списке «{field}» ожидается непустой идентификатор (строка).",
        "en": "{item}: a non-empty id (text) is expected in “{field}”.",
    },
    "catalog_warehouse_unknown": {
        "ru": "{item}: склад «{warehouse}» не найден ни в пакете, ни в справочнике.",
        "en": "{item}: warehouse “{warehouse}” is neither in the batch nor in the catalog.",
    },
    "catalog_bad_version": {
        "ru": "Неверная версия справочника: ожидается целое число от 0.",
        "en": "Bad catalog version: a whole number from 0 is expected.",
    },
    "too_many_pin_misses": {
        "ru": "Слишком много неверных пин-кодов. Повторите через {retry_after} с.",
        "en": "Too many wrong PINs. Try again in {retry_after} s.",
    },
    "storage_unavailable": {
        "ru": "Хранилище временно недоступно, повторите запрос позже.",
        "en": "Storage is temporarily unavailable; retry later.",
    },
    "broker_unavailable": {
        "ru": "Сервер обмена временно недоступен, повторите запрос позже.",
        "en": "The exchange server is temporarily unavailable; retry later.",
    },
    "upload_not_confirmed": {
        "ru": "Брокер сообщений не подтвердил приём выгрузки: она не принята. "
        "Повторите запрос с тем же идентификатором запроса.",
        "en": "The message broker did not confirm the upload: it was not accepted. "
        "Retry the request with the same request_id.",
    },
    "bad_connection_code": {
        "ru": "Неверный код подключения к базе.",
        "en": "Wrong connection code.",
    },
    "upload_refused_before": {
        "ru": "Это прежний ответ: выгрузка с этим request_id уже была отклонена. Исправленную "
        "выгрузку отправьте с новым request_id.",
        "en": "This is the earlier answer: an upload with this request_id was refused before. "
        "Send the corrected upload with a new request_id.",
    },
    "document_in_work": {
        "ru": "Документ {number} уже в работе на терминале. Чтобы заменить его новой версией, "
        "выгрузите её с отзывом (recall:true; в модуле ОбменТСД — параметр Отозвать = Истина): "
        "посчитанное по старой версии не вернётся.",
        "en": "Document {number} is already being worked on. To replace it with the new version, "
        "upload that with a recall (recall: true; in the ОбменТСД module, Отозвать = Истина): "
        "what was counted on the old version does not come back.",
    },
    "document_result_not_loaded": {
        "ru": "Результат документа {number} ещё не загружен в учётную систему. "
        "Загрузите его, затем выгружайте документ снова.",
        "en": "The result of document {number} has not been loaded yet. "
        "Load it first, then upload the document again.",
    },
    "cell_mismatch": {
        "ru": "Строка {line}: товар положен в ячейку {cell}, а по плану ячейка {planned_cell}.",
        "en": "Line {line}: counted in cell {cell}, but the plan says cell {planned_cell}.",
    },
    "process_cannot_create": {
        "ru": "Бизнес-процесс {process} не разрешает создавать документы на терминале.",
        "en": "Business process {process} does not allow creating documents on the terminal.",
    },
    "document_id_taken": {
        "ru": "Документ с таким идентификатором уже есть: созданный на терминале не принят.",
        "en": "A document with this id already exists: the one made on the terminal is not taken.",
    },
    "mark_repeated": {
        "ru": "Код маркировки {mark} в результате дважды: один товар считается один раз.",
        "en": "Marking code {mark} appears twice in the result: one item counts once.",
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
    # A document taken back after it was accepted (routing's late_returns.py).
    "returned_device_blocked": {
        "ru": "Документ {number} возвращён: устройство {pin} было заблокировано до выгрузки.",
        "en": "Document {number} was returned: device {pin} had been blocked before the upload.",
    },
    "returned_device_retired": {
        "ru": "Документ {number} возвращён: устройство {pin} было выведено из работы до выгрузки.",
        "en": "Document {number} was returned: device {pin} had been retired before the upload.",
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
    "body_unreadable": {
        "ru": "Тело запроса не удалось разобрать.",
        "en": "The request body could not be parsed.",
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
        "ru": "Данные 1С не являются JSON: {json_error}.",
        "en": "The 1C data is not JSON: {json_error}.",
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
    "onec_line_no_repeated": {
        "ru": "Документ {document}: строки {first} и {second} с одним номером строки "
        "{line_no}; у каждой строки табличной части свой номер.",
        "en": "Document {document}: lines {first} and {second} have the same line number "
        "{line_no}; each line of the table needs a number of its own.",
    },
    "onec_bad_line_no": {
        "ru": "Документ {document}, строка {line}: номер строки «{value}» в поле «{field}» "
        "должен быть целым числом от 1.",
        "en": "Document {document}, line {line}: line number “{value}” in field “{field}” "
        "must be a whole number from 1.",
    },
    "onec_bad_quantity": {
        "ru": "Документ {document}, строка {line}: количество «{value}» в поле «{field}» "
        "не является числом в пределах правила: до 15 цифр до запятой и до 6 после, "
        "без экспоненты.",
        "en": "Document {document}, line {line}: quantity “{value}” in field “{field}” "
        "is not a number within the rule: up to 15 digits before the point and 6 after, "
        "no exponent.",
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
    # Gateway: request rate and webhooks.
    "rate_limited": {
        "ru": "Слишком много запросов. Повторите через {retry_after} с.",
        "en": "Too many requests. Try again in {retry_after} s.",
    },
    "webhook_https_required": {
        "ru": "Адрес для уведомлений должен начинаться с https://.",
        "en": "The notification address must start with https://.",
    },
    "webhook_address_not_allowed": {
        "ru": "Адрес для уведомлений недопустим ({address_kind}): tsdx не отправляет "
        "уведомления на локальные, частные и служебные адреса. Для сервера 1С во внутренней сети "
        "администратор может разрешить его сеть (TSDX_WEBHOOK_ALLOWED_NETWORKS).",
        "en": "The notification address is not allowed ({address_kind}): tsdx does not push "
        "to local, private or reserved addresses. For a 1C server on an internal network the "
        "administrator may allow its network (TSDX_WEBHOOK_ALLOWED_NETWORKS).",
    },
    "webhook_url_invalid": {
        "ru": "Неверный адрес для уведомлений: нужен полный адрес вида https://сервер/путь "
        "без имени пользователя и пароля.",
        "en": "Invalid notification address: give a full address such as https://host/path, "
        "without a user name or password.",
    },
    # Dashboard.
    "unknown_queue": {
        "ru": "Рабочей очереди «{queue}» нет.",
        "en": "There is no work queue “{queue}”.",
    },
    "parked_message_not_found": {
        "ru": "Сообщения {message_id} нет среди отложенных в очереди «{queue}».",
        "en": "Message {message_id} is not among the parked messages of “{queue}”.",
    },
    "broker_api_unavailable": {
        "ru": "API управления RabbitMQ недоступен: {reason}",
        "en": "The RabbitMQ management API is unavailable: {reason}",
    },
    # LAN terminal API (services/lan_writer).
    "lan_credentials_missing": {
        "ru": "Укажите логин и пароль или штрихкод пользователя.",
        "en": "Give a login and password, or the user's barcode.",
    },
    "too_many_login_attempts": {
        "ru": "Слишком много неудачных попыток входа. Повторите через {retry_after} с.",
        "en": "Too many failed log-in attempts. Try again in {retry_after} s.",
    },
    "lan_login_failed": {
        "ru": "Неверный логин, пароль или штрихкод пользователя.",
        "en": "Wrong login, password or user barcode.",
    },
    "lan_session_invalid": {
        "ru": "Сеанс не найден или истёк: войдите заново.",
        "en": "The session is unknown or has expired: log in again.",
    },
    "document_taken": {
        "ru": "Документ уже взят в работу пользователем {holder}.",
        "en": "The document is already taken by {holder}.",
    },
    "document_not_taken": {
        "ru": "Документ не взят вами в работу: сначала возьмите его.",
        "en": "You have not taken this document: take it first.",
    },
    "document_not_locked": {
        "ru": "Документ никем не взят в работу.",
        "en": "Nobody has taken this document.",
    },
    "lock_lost": {
        "ru": "Документ у вас забрал оператор ({reason}). Результат не принят: "
        "возьмите документ заново.",
        "en": "An operator took the document from you ({reason}). The result was not accepted: "
        "take the document again.",
    },
    "release_lock_first": {
        "ru": "Документ в работе у {holders}: сначала снимите блокировку.",
        "en": "The document is being worked on by {holders}: release the lock first.",
    },
    "lan_busy": {
        "ru": "Документ сейчас изменяют другие пользователи, повторите.",
        "en": "Other users are changing the document right now; try again.",
    },
    # Registry: tenants, devices, users and groups (the admin API and the CLI).
    "tenant_not_found": {
        "ru": "База «{tenant}» не найдена.",
        "en": "Base “{tenant}” was not found.",
    },
    # Also the answer a retired device gets to every call; a retired device cannot be changed.
    "device_retired": {
        "ru": "Устройство {pin} выведено из работы.",
        "en": "Device {pin} is retired.",
    },
    # A terminal call with the credential of a device that another terminal replaced.
    "device_replaced": {
        "ru": "Устройство {pin} заменено другим терминалом: зарегистрируйте этот ТСД заново.",
        "en": "Device {pin} was replaced by another terminal: pair this one anew.",
    },
    "replace_same_device": {
        "ru": "Устройство нельзя заменить им самим: укажите новое устройство.",
        "en": "A device cannot replace itself: name the new device.",
    },
    "user_exists": {
        "ru": "Пользователь «{login}» уже существует.",
        "en": "User “{login}” already exists.",
    },
    "user_not_found": {
        "ru": "Пользователь «{login}» не найден.",
        "en": "User “{login}” was not found.",
    },
    "group_exists": {
        "ru": "Группа «{group}» уже существует.",
        "en": "Group “{group}” already exists.",
    },
    "group_not_found": {
        "ru": "Группа «{group}» не найдена.",
        "en": "Group “{group}” was not found.",
    },
    "group_reserved": {
        "ru": "Группа «{group}» — это все пользователи базы: её нельзя создать, изменить "
        "или пополнить.",
        "en": "Group “{group}” means every user of the base: it cannot be created, changed "
        "or joined.",
    },
    "barcode_taken": {
        "ru": "Этот штрихкод уже выдан другому пользователю.",
        "en": "This barcode already belongs to another user.",
    },
    # The tsdx command line (tools/cli): messages about the operator's input and the link.
    "cli_api_key_missing": {
        "ru": "Не указан ключ API базы: --api-key или переменная окружения TSDX_API_KEY.",
        "en": "No API key of the base: give --api-key or set TSDX_API_KEY.",
    },
    "cli_server_unreachable": {
        "ru": "Сервер {url} не отвечает: {transport_error}",
        "en": "The server at {url} does not answer: {transport_error}",
    },
    "cli_log_not_written": {
        "ru": (
            "tsdx up: журнал {path} не записывается ({reason}); эти строки потеряны, "
            "запись продолжится, как только файл снова доступен."
        ),
        "en": (
            "tsdx up: the log {path} cannot be written ({reason}); these lines are lost, "
            "writing goes on once the file can be written again."
        ),
    },
    "cli_not_sent": {
        "ru": "не отправлен: сервер перестал отвечать.",
        "en": "not sent: the server stopped answering.",
    },
    "cli_catalog_items": {"ru": "элементов", "en": "items"},
    "cli_catalog_done": {
        "ru": "Справочники загружены: элементов {items}, изменено {changed}, "
        "без изменений {unchanged}; версия {version}.",
        "en": "Catalog uploaded: {items} items, {changed} changed, {unchanged} unchanged; "
        "version {version}.",
    },
    "cli_catalog_more_errors": {
        "ru": "… и ещё ошибок: {more}.",
        "en": "… and {more} more errors.",
    },
    "cli_file_not_found": {
        "ru": "файл не найден.",
        "en": "file not found.",
    },
    "cli_file_unreadable": {
        "ru": "файл не читается: {reason}.",
        "en": "the file cannot be read: {reason}.",
    },
    "cli_file_not_utf8": {
        "ru": "файл не в кодировке UTF-8 (неверный байт в позиции {position}).",
        "en": "the file is not UTF-8 (invalid byte at position {position}).",
    },
    "cli_file_not_json": {
        "ru": "файл не является JSON: {json_error}.",
        "en": "the file is not JSON: {json_error}.",
    },
    "cli_looks_like_1c": {
        "ru": "похоже на выгрузку 1С: укажите --format 1c-json (или --format csv для таблицы).",
        "en": "this looks like a 1C export: give --format 1c-json (or --format csv for a table).",
    },
    "cli_bad_document": {
        "ru": "документ {document} не принят: {details}",
        "en": "document {document} is refused: {details}",
    },
    "cli_bad_upload": {
        "ru": "выгрузка не принята: {details}",
        "en": "the upload is refused: {details}",
    },
    "cli_no_documents": {
        "ru": "в файле нет ни одного документа.",
        "en": "the file holds no document.",
    },
    "cli_csv_needs_type": {
        "ru": "для файла CSV укажите вид документа учётной системы: --type «Заказ поставщику».",
        "en": 'for a CSV file give the accounting document type: --type "Заказ поставщику".',
    },
    "cli_no_target": {
        "ru": "Не указан получатель: --pin, --device, --everyone, --group или --user.",
        "en": "No target given: --pin, --device, --everyone, --group or --user.",
    },
    "cli_upload_pending": {
        "ru": "выгрузка {request_id} принята, но ещё не решена; узнать ответ: "
        "tsdx upload-status {request_id}",
        "en": "upload {request_id} was accepted but is not decided yet; ask later: "
        "tsdx upload-status {request_id}",
    },
    "cli_no_devices": {
        "ru": "Эта база ещё не выгружала документы ни на одно устройство.",
        "en": "This base has not uploaded to any device yet.",
    },
    "cli_no_results": {
        "ru": "Нет завершённых документов, ожидающих загрузки.",
        "en": "No completed documents wait to be loaded.",
    },
    "cli_tsd_not_paired": {
        "ru": "терминал не подключён: сначала выполните tsdx tsd pair --code КОД.",
        "en": "the terminal is not paired: run tsdx tsd pair --code CODE first.",
    },
    "cli_tsd_state_invalid": {
        "ru": "файл состояния терминала повреждён: {reason}",
        "en": "the terminal's state file is damaged: {reason}",
    },
    "cli_lan_not_logged_in": {
        "ru": "пользователь не вошёл: сначала выполните tsdx tsd lan-login.",
        "en": "no user is logged in: run tsdx tsd lan-login first.",
    },
    "cli_tsd_inbox_empty": {
        "ru": "На терминале нет документов для работы.",
        "en": "The terminal has no documents to work on.",
    },
    # Routing: uploads and business processes (services/routing).
    "document_repeated": {
        "ru": "Документ {document} указан в выгрузке дважды: документы не выгружены.",
        "en": "Document {document} appears twice in the upload: nothing was uploaded.",
    },
    "process_invalid": {
        "ru": "Бизнес-процесс не принят: {details}",
        "en": "The business process was refused: {details}",
    },
    "process_is_shipped": {
        "ru": "Бизнес-процесс «{process}» поставляется с сервером: его можно изменить или "
        "отключить, но не удалить.",
        "en": "Business process “{process}” ships with the server: it can be changed or "
        "disabled, but not deleted.",
    },
    "process_is_default": {
        "ru": "Бизнес-процесс «{process}» общий для всех баз: для этой базы его можно "
        "отключить, но не удалить.",
        "en": "Business process “{process}” is shared by all bases: it can be disabled for "
        "this base, but not deleted.",
    },
    "process_in_use": {
        "ru": "Бизнес-процесс «{process}» нельзя удалить: он следующий для процесса «{by}».",
        "en": "Business process “{process}” cannot be deleted: it is the next process of “{by}”.",
    },
    "cli_document_credential_missing": {
        "ru": "Не указан ни токен администратора (--admin-token, TSDX_ADMIN_TOKEN: поиск во всех "
        "базах по номеру, ид или пин-коду), ни ключ API базы (--api-key, TSDX_API_KEY: документ "
        "этой базы по его ид в 1С).",
        "en": "Neither an admin token (--admin-token, TSDX_ADMIN_TOKEN: a search of every base by "
        "number, id or PIN) nor a base's API key (--api-key, TSDX_API_KEY: the base's document "
        "by its 1C id) was given.",
    },
    "cli_admin_token_missing": {
        "ru": "Не указан токен администратора: --admin-token или переменная окружения "
        "TSDX_ADMIN_TOKEN.",
        "en": "No admin token: give --admin-token or set TSDX_ADMIN_TOKEN.",
    },
    "cli_file_not_written": {
        "ru": "файл не записан: {reason}.",
        "en": "the file could not be written: {reason}.",
    },
    "cli_no_processes": {
        "ru": "Бизнес-процессов нет.",
        "en": "There are no business processes.",
    },
    # tsdx bench (tools/cli/bench.py).
    "cli_bench_bad_duration": {
        "ru": "Длительность (--duration) должна быть положительным числом секунд, а не {value}.",
        "en": "The duration (--duration) must be a positive number of seconds, not {value}.",
    },
    "cli_bench_polls_only_docs": {
        "ru": "С --polls-only замеряются только опросы, поэтому --write-docs не переписывает "
        "docs/performance.md: остальные цифры пропали бы.",
        "en": "With --polls-only only the polls are measured, so --write-docs cannot rewrite "
        "docs/performance.md: the other figures would be lost.",
    },
    # tsdx backup and tsdx restore (tools/cli/backup.py).
    "cli_backup_not_sqlite": {
        "ru": "tsdx backup копирует встроенные хранилища SQLite, а здесь TSDX_STORE=mongo: "
        "делайте копию средствами MongoDB (mongodump), см. docs/deploy.md.",
        "en": "tsdx backup copies the embedded SQLite stores, and here TSDX_STORE=mongo: "
        "back up with MongoDB's tools (mongodump), see docs/deploy.md.",
    },
    "cli_backup_no_stores": {
        "ru": "В каталоге данных {path} нет хранилищ tsdx (*.sqlite3): копировать нечего.",
        "en": "The data directory {path} holds no tsdx stores (*.sqlite3): nothing to copy.",
    },
    "cli_backup_target_not_empty": {
        "ru": "Каталог {path} не пуст: резервная копия пишется только в новый или пустой каталог.",
        "en": "{path} is not empty: a backup is written into a new or empty directory only.",
    },
    "cli_backup_damaged": {
        "ru": "Копия хранилища {path} не прошла проверку ({check}); резервная копия не готова.",
        "en": "The copy of the store {path} failed its check ({check}); the backup is not "
        "complete.",
    },
    "cli_backup_done": {
        "ru": "Скопировано хранилищ: {count}, в {path}.",
        "en": "{count} stores copied into {path}.",
    },
    "cli_restore_not_a_backup": {
        "ru": "{path} — не резервная копия tsdx backup (нет описи {manifest} или "
        "файлов, которые она называет).",
        "en": "{path} is not a backup made by tsdx backup (no {manifest}, or the files "
        "it names are missing).",
    },
    "cli_restore_stack_running": {
        "ru": "В каталоге данных {path} хранилище открыто службой ({store}): tsdx там работает "
        "или был остановлен аварийно. Остановите его и восстанавливайте в новый каталог.",
        "en": "A service has a store open in the data directory {path} ({store}): tsdx is "
        "running there or was not stopped cleanly. Stop it and restore into a new directory.",
    },
    "cli_restore_target_not_empty": {
        "ru": "Каталог данных {path} не пуст: восстановление выполняется только в новый или "
        "пустой каталог, чтобы не смешать копию с другими данными.",
        "en": "The data directory {path} is not empty: a restore goes into a new or empty "
        "directory only, so that the backup never mixes with other data.",
    },
    "cli_backup_key_unreadable": {
        "ru": "Ключ шифрования секретов {path} не читается: {reason}. Копия не сделана.",
        "en": "The secret key {path} cannot be read: {reason}. No backup was made.",
    },
    "cli_backup_key_copied": {
        "ru": "Ключ шифрования секретов ({file}) скопирован тоже: храните копию так же надёжно, "
        "как каталог данных.",
        "en": "The secret key ({file}) was copied too: keep the backup as safe as the data "
        "directory.",
    },
    "cli_restore_damaged": {
        "ru": "Хранилище {path} в копии повреждено ({reason}). Ничего не восстановлено.",
        "en": "The store {path} in the backup is damaged ({reason}). Nothing was restored.",
    },
    "cli_restore_done": {
        "ru": "Восстановлено хранилищ: {count}, в {path}. Запустите tsdx с этим каталогом данных.",
        "en": "{count} stores restored into {path}. Start tsdx with this data directory.",
    },
    "cli_bench_failed": {
        "ru": "Замер прерван: {reason}. Журналы служб сохранены в {logs}.",
        "en": "The benchmark stopped: {reason}. The service logs are kept in {logs}.",
    },
}


# A document's journey (shared/journey.py): the names of its steps and states, and
# the words of the dashboard's search and of ``tsdx document show``.
JOURNEY_MESSAGES: dict[str, dict[Language, str]] = {
    # The steps' names are defined with the steps themselves.
    **{step_label_code(step): labels for step, labels in STEPS.items()},
    "journey_state_queued": {"ru": "в очереди", "en": "queued"},
    "journey_state_delivered": {"ru": "доставлен", "en": "delivered"},
    "journey_state_downloaded": {"ru": "загружен на ТСД", "en": "downloaded"},
    "journey_state_in_progress": {"ru": "в работе", "en": "in progress"},
    "journey_state_completed": {"ru": "завершён", "en": "completed"},
    "journey_state_loaded": {"ru": "загружен в учётную систему", "en": "loaded into accounting"},
    "journey_state_refused": {"ru": "выгрузка отклонена", "en": "upload refused"},
    "journey_final": {"ru": "итоговый", "en": "final"},
    "journey_partial": {"ru": "промежуточный", "en": "partial"},
    "journey_lines": {"ru": "строк: {count}", "en": "lines: {count}"},
    "journey_attempts": {"ru": "попыток: {count}", "en": "attempts: {count}"},
    "journey_incomplete_gateway": {
        "ru": "Шлюз не ответил: отправки в учётную систему и получение ею результата "
        "могут быть не показаны.",
        "en": "The gateway did not answer: pushes to accounting and its reads of the result "
        "may be missing.",
    },
    "journey_title": {"ru": "Путь документа", "en": "A document's journey"},
    "journey_search_label": {
        "ru": "Номер, идентификатор документа или пин-код ТСД",
        "en": "Number, document id or terminal PIN",
    },
    "journey_search_button": {"ru": "Найти", "en": "Find"},
    "journey_searching": {"ru": "Поиск…", "en": "Searching…"},
    "journey_not_found": {"ru": "Документ не найден: {query}", "en": "No document found: {query}"},
    "journey_state": {"ru": "Состояние", "en": "State"},
    "journey_col_step": {"ru": "Шаг", "en": "Step"},
    "journey_col_service": {"ru": "Служба", "en": "Service"},
    "journey_col_who": {"ru": "Устройство / пользователь", "en": "Device / user"},
    "journey_col_details": {"ru": "Подробности", "en": "Details"},
    "cli_document_not_found": {
        "ru": "Документ «{query}» не найден ни в одной базе.",
        "en": "No document “{query}” in any base.",
    },
    "cli_document_not_in_base": {
        "ru": "В этой базе нет документа с ид «{query}» в 1С (с ключом API базы документ ищется "
        "по его ид в 1С; по номеру или пин-коду во всех базах ищет администратор: "
        "--admin-token).",
        "en": "This base has no document whose 1C id is “{query}” (with a base's API key a "
        "document is found by its 1C id; the operators' search by number or PIN in every base "
        "takes --admin-token).",
    },
    "cli_document_tenant_needs_admin": {
        "ru": "--tenant выбирает базу в поиске администратора (--admin-token); ключ API сам "
        "называет свою базу.",
        "en": "--tenant picks a base in the operators' search (--admin-token); an API key names "
        "its own base.",
    },
}
MESSAGES.update(JOURNEY_MESSAGES)


# The one catalog: refusal codes (above) and the words of tsdx's own screens (shared.i18n_ui).
CATALOG: dict[str, dict[Language, str]] = {**MESSAGES, **UI_TEXTS}
assert not MESSAGES.keys() & UI_TEXTS.keys(), "a screen text reuses a refusal code"


# Parameters a message may go without (a refusal stored before it had them): said as "".
_OPTIONAL_PARAMS = ("nearest",)


# The messages that name an optional parameter, with the ones they name: looked up once.
def _optional_named(texts: dict[Language, str]) -> tuple[str, ...]:
    return tuple(n for n in _OPTIONAL_PARAMS if any("{" + n + "}" in t for t in texts.values()))


_OPTIONAL_IN: dict[str, tuple[str, ...]] = {
    code: named for code, texts in CATALOG.items() if (named := _optional_named(texts))
}


def _did_you_mean(nearest: str, language: str) -> str:
    """What a name not found comes closest to, as a message's aside; "" for nothing."""
    if not nearest:
        return ""
    return f" (did you mean “{nearest}”?)" if language == "en" else f" (может быть, «{nearest}»?)"


def render(code: str, language: str = "ru", params: dict[str, Any] | None = None) -> str:
    texts = CATALOG.get(code)
    if texts is None:
        return code
    template = texts["en"] if language == "en" else texts["ru"]
    values = params or {}
    optional = _OPTIONAL_IN.get(code)
    if optional and not all(name in values for name in optional):
        values = {**dict.fromkeys(optional, ""), **values}
    if not _SAID_PARAMS.keys().isdisjoint(values):
        values = {
            name: _SAID_PARAMS[name](value, language)
            if name in _SAID_PARAMS and isinstance(value, str)
            else value
            for name, value in values.items()
        }
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def text(key: str, language: str, /, **params: Any) -> str:
    """One of the screens' own texts (``cli.…``, ``dashboard.…``); unlike a code from the
    wire, an unknown key is a mistake in the program."""
    if key not in UI_TEXTS:
        raise KeyError(key)
    return render(key, language, params)


def word(value: str, language: str, prefix: str = "cli.word.") -> str:
    """A status word from the server (``completed``, ``online``…) in the reader's language;
    one without a translation is shown as it came."""
    key = prefix + value
    return render(key, language) if key in UI_TEXTS else value


# Parameters a message says in the reader's words while an answer's ``params`` keep them as
# they are: one of tsdx's own words (a target's kind, a channel: «получатель вида «группа»»),
# and what the JSON reader said was wrong with a text (its own English words).
_SAID_PARAMS: dict[str, Callable[[str, str], str]] = {
    "target": word,
    "channel": word,
    "json_error": json_reason,
    "nearest": _did_you_mean,
    # Why an address is not one tsdx connects to (shared/outbound.py).
    "address_kind": lambda value, language: word(value, language, prefix="cli.address."),
    # A client's call that got no answer: httpx's error class (tools/cli/output.py).
    "transport_error": lambda value, language: word(value, language, prefix="cli.transport."),
}


# A client sends the same header on every request, and there are few distinct ones: each is
# read once (4-5 µs a request otherwise). Bounded, so odd headers cannot grow it.
@functools.lru_cache(maxsize=512)
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
