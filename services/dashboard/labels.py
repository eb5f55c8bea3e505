"""The page's own words, in Russian (default) and English.

Refusal codes keep their texts in ``shared.i18n``; these are only the dashboard's headings,
column names and buttons. The page gets all of them, its script uses them for live rows.
"""

from __future__ import annotations

from shared.i18n import Language

LABELS: dict[str, dict[Language, str]] = {
    "title": {"ru": "tsdx — панель оператора", "en": "tsdx — operator dashboard"},
    "subtitle": {
        "ru": "Маршрутизация документов в реальном времени",
        "en": "Document routing, live",
    },
    "updated": {"ru": "Обновлено", "en": "Updated"},
    "no_answer": {"ru": "Панель не отвечает", "en": "The dashboard does not answer"},
    "since_start": {
        "ru": "Счётчики и лента — с запуска панели",
        "en": "Counters and feed since the dashboard started",
    },
    "noscript": {
        "ru": "Для обновления в реальном времени нужен JavaScript.",
        "en": "Live updates need JavaScript.",
    },
    # Counters.
    "c_accepted": {"ru": "Запросов принято", "en": "Requests accepted"},
    "c_refused": {"ru": "Запросов отклонено", "en": "Requests refused"},
    "c_routed_internet": {"ru": "Копий через интернет", "en": "Copies via the internet"},
    "c_routed_lan": {"ru": "Копий в локальную сеть", "en": "Copies to the LAN"},
    "c_completed": {"ru": "Документов завершено", "en": "Documents completed"},
    "c_results_refused": {"ru": "Результатов отклонено", "en": "Results refused"},
    # Throughput.
    "throughput_title": {"ru": "Решения за каждые {seconds} с", "en": "Decisions per {seconds} s"},
    "legend_accepted": {"ru": "приняты", "en": "accepted"},
    "legend_refused": {"ru": "отклонены", "en": "refused"},
    "throughput_window": {
        "ru": "последние {minutes} мин, справа — сейчас",
        "en": "the last {minutes} min, now on the right",
    },
    "peak": {"ru": "максимум {count}", "en": "peak {count}"},
    # Bases and their connection codes.
    "bases_title": {"ru": "Учётные базы", "en": "Accounting bases"},
    "col_name": {"ru": "Название", "en": "Name"},
    "col_devices": {"ru": "Устройств", "en": "Devices"},
    "empty_bases": {"ru": "Баз пока нет", "en": "No bases yet"},
    "new_code": {"ru": "Новый код подключения", "en": "New connection code"},
    "new_code_confirm": {
        "ru": "Выдать базе {tenant} новый код подключения? Старый код перестанет подходить "
        "для новых терминалов; уже подключённые продолжат работать.",
        "en": "Issue a new connection code for base {tenant}? The old code stops pairing new "
        "terminals; terminals already paired keep working.",
    },
    "new_code_shown": {
        "ru": "Код подключения базы {tenant}: {code}. Отсканируйте QR-код на экране "
        "подключения терминала. Код больше не будет показан.",
        "en": "Connection code of base {tenant}: {code}. Scan the QR code on the terminal's "
        "pairing screen. The code is not shown again.",
    },
    "qr_title": {"ru": "Код подключения базы {tenant}", "en": "Connection code of base {tenant}"},
    # Feed.
    "feed_title": {"ru": "Лента решений", "en": "Decision feed"},
    "col_time": {"ru": "Время", "en": "Time"},
    "col_tenant": {"ru": "База", "en": "Base"},
    "col_request": {"ru": "Запрос / документ", "en": "Request / document"},
    "col_process": {"ru": "Бизнес-процесс", "en": "Business process"},
    "col_channel": {"ru": "Канал", "en": "Channel"},
    "col_target": {"ru": "Получатель", "en": "Target"},
    "col_outcome": {"ru": "Итог", "en": "Outcome"},
    "col_latency": {"ru": "Задержка", "en": "Latency"},
    "outcome_accepted": {"ru": "принят", "en": "accepted"},
    "outcome_refused": {"ru": "отклонён", "en": "refused"},
    "outcome_completed": {"ru": "документ завершён", "en": "document completed"},
    "outcome_result_refused": {"ru": "результат отклонён", "en": "result refused"},
    "repeat": {"ru": "повтор", "en": "repeat"},
    "channel_internet": {"ru": "интернет", "en": "internet"},
    "channel_lan": {"ru": "локальная сеть", "en": "LAN"},
    "target_pin": {"ru": "пин", "en": "PIN"},
    "target_device": {"ru": "устройство", "en": "device"},
    "target_group": {"ru": "группа", "en": "group"},
    "target_user": {"ru": "пользователь", "en": "user"},
    "target_everyone": {"ru": "все", "en": "everyone"},
    "ms": {"ru": "мс", "en": "ms"},
    "empty_feed": {"ru": "Решений пока не было", "en": "No decisions yet"},
    # Refusals.
    "refusals_title": {"ru": "Отказы по кодам", "en": "Refusals by code"},
    "col_kind": {"ru": "Что", "en": "What"},
    "col_code": {"ru": "Код", "en": "Code"},
    "col_message": {"ru": "Сообщение", "en": "Message"},
    "col_count": {"ru": "Сколько", "en": "Count"},
    "kind_upload": {"ru": "выгрузка", "en": "upload"},
    "kind_result": {"ru": "результат", "en": "result"},
    "empty_refusals": {"ru": "Отказов не было", "en": "No refusals"},
    # Queues.
    "queues_title": {"ru": "Очереди", "en": "Queues"},
    "col_queue": {"ru": "Очередь", "en": "Queue"},
    "col_type": {"ru": "Тип", "en": "Type"},
    "col_ready": {"ru": "Ждут", "en": "Ready"},
    "col_unacked": {"ru": "В обработке", "en": "In hand"},
    "col_consumers": {"ru": "Потребители", "en": "Consumers"},
    "col_retrying": {"ru": "На повторе", "en": "Retrying"},
    "col_parked": {"ru": "Отложены", "en": "Parked"},
    # Devices.
    "devices_title": {"ru": "Устройства", "en": "Devices"},
    "col_pin": {"ru": "Пин", "en": "PIN"},
    "col_device": {"ru": "Устройство", "en": "Device"},
    "col_mode": {"ru": "Режим", "en": "Mode"},
    "col_status": {"ru": "Состояние", "en": "Status"},
    "col_presence": {"ru": "На связи", "en": "Online"},
    "col_last_seen": {"ru": "Последний контакт", "en": "Last seen"},
    "mode_online": {"ru": "онлайн", "en": "online"},
    "mode_offline": {"ru": "офлайн", "en": "offline"},
    "status_active": {"ru": "активно", "en": "active"},
    "status_blocked": {"ru": "заблокировано", "en": "blocked"},
    "status_retired": {"ru": "выведено", "en": "retired"},
    "presence_online": {"ru": "в сети", "en": "online"},
    "presence_offline": {"ru": "не в сети", "en": "offline"},
    "presence_unknown": {"ru": "нет данных", "en": "unknown"},
    "empty_devices": {"ru": "Устройств пока нет", "en": "No devices yet"},
    # Parked messages.
    "parked_title": {"ru": "Отложенные сообщения", "en": "Parked messages"},
    "admin_token": {"ru": "Токен администратора", "en": "Admin token"},
    "col_message_id": {"ru": "Сообщение", "en": "Message"},
    "col_reason": {"ru": "Причина", "en": "Reason"},
    "col_parked_at": {"ru": "Отложено", "en": "Parked at"},
    "replay": {"ru": "Вернуть в очередь", "en": "Replay"},
    "replayed": {"ru": "Возвращено в очередь: {count}", "en": "Replayed: {count}"},
    "token_needed": {
        "ru": "Введите токен администратора: данные панели только для операторов.",
        "en": "Enter the admin token: the dashboard's figures are for operators only.",
    },
    "empty_parked": {"ru": "Отложенных сообщений нет", "en": "No parked messages"},
}


def labels_for(language: Language) -> dict[str, str]:
    return {key: texts[language] for key, texts in LABELS.items()}
