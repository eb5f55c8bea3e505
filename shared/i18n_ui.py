"""The words of tsdx's own screens, in Russian (default) and English: the ``tsdx`` command
(``cli.*``) and the operator's dashboard (``dashboard.*``).

Part of the one message catalog: :mod:`shared.i18n` merges these with the refusal codes and
renders both the same way (``str.format`` parameters). Refusal codes travel over the wire;
these keys never do. Keep a product name, a unit or an identifier (tsdx, PIN in English,
API, JSON, HTTP) as it is; everything else is said in the reader's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.i18n import Language

# A table: its entries look alike, as do i18n.py's, and a word may stand under two keys
# (a CLI word, a dashboard label, a journey step) because each screen may come to say it its own
# way.
UI_TEXTS: dict[str, dict[Language, str]] = {
    # ------------------------------------------------------------------------------------------
    # The tsdx command: words shared by several commands.
    "cli.word.accepted": {"ru": "принят", "en": "accepted"},
    "cli.word.refused": {"ru": "отклонён", "en": "refused"},
    "cli.word.pending": {"ru": "ожидает решения", "en": "pending"},
    "cli.word.online": {"ru": "онлайн", "en": "online"},
    "cli.word.offline": {"ru": "офлайн", "en": "offline"},
    "cli.word.internet": {"ru": "интернет", "en": "internet"},
    "cli.word.lan": {"ru": "локальная сеть", "en": "LAN"},
    "cli.word.queued": {"ru": "в очереди", "en": "queued"},
    "cli.word.waiting": {"ru": "ждёт загрузки на ТСД", "en": "waiting"},
    "cli.word.delivered": {"ru": "доставлен", "en": "delivered"},
    "cli.word.downloaded": {"ru": "загружен на ТСД", "en": "downloaded"},
    "cli.word.in_progress": {"ru": "в работе", "en": "in progress"},
    "cli.word.completed": {"ru": "завершён", "en": "completed"},
    "cli.word.loaded": {"ru": "загружен в учётную систему", "en": "loaded"},
    "cli.word.returned": {"ru": "возвращён в учётную систему", "en": "returned"},
    "cli.word.done": {"ru": "готов", "en": "done"},
    "cli.word.withdrawn": {"ru": "отозван", "en": "withdrawn"},
    "cli.word.released": {"ru": "освобождён", "en": "released"},
    "cli.word.received": {"ru": "получен", "en": "received"},
    # Why an address is not one tsdx connects to (shared/outbound.py ``refusal``).
    "cli.address.unspecified": {"ru": "неуказанный адрес 0.0.0.0", "en": "unspecified"},
    "cli.address.loopback": {"ru": "этот же компьютер, 127.0.0.1", "en": "loopback"},
    "cli.address.link-local": {"ru": "локальный адрес канала", "en": "link-local"},
    "cli.address.multicast": {"ru": "групповой адрес", "en": "multicast"},
    "cli.address.private": {"ru": "частная сеть", "en": "private"},
    "cli.address.reserved": {"ru": "зарезервированный адрес", "en": "reserved"},
    "cli.address.not public": {"ru": "не публичный адрес", "en": "not public"},
    # A LAN document's lock (services/lan_writer/locks.py) and a LAN result's status.
    "cli.word.free": {"ru": "свободен", "en": "free"},
    "cli.word.taken": {"ru": "взят", "en": "taken"},
    "cli.word.sent": {"ru": "отправлен", "en": "sent"},
    "cli.word.recalled": {"ru": "отозван оператором", "en": "recalled"},
    "cli.word.replaced": {"ru": "устройство заменено", "en": "replaced"},
    # Why a copy was withdrawn (cli.word.replaced is a device's state).
    "cli.reason.replaced": {"ru": "заменён новой версией из 1С", "en": "replaced by a new version"},
    "cli.reason.recalled": {"ru": "взят обратно", "en": "taken back"},
    "cli.word.active": {"ru": "активно", "en": "active"},
    "cli.word.blocked": {"ru": "заблокировано", "en": "blocked"},
    "cli.word.retired": {"ru": "выведено из работы", "en": "retired"},
    "cli.word.enabled": {"ru": "включён", "en": "enabled"},
    "cli.word.disabled": {"ru": "отключён", "en": "disabled"},
    "cli.word.deleted": {"ru": "удалён", "en": "deleted"},
    "cli.word.yes": {"ru": "да", "en": "yes"},
    "cli.word.no": {"ru": "нет", "en": "no"},
    "cli.word.pin": {"ru": "пин-код", "en": "PIN"},
    "cli.word.device": {"ru": "устройство", "en": "device"},
    "cli.word.group": {"ru": "группа", "en": "group"},
    "cli.word.user": {"ru": "пользователь", "en": "user"},
    "cli.word.everyone": {"ru": "все", "en": "everyone"},
    "cli.word.default": {"ru": "общий", "en": "default"},
    "cli.word.tenant": {"ru": "база", "en": "tenant"},
    "cli.progress.files": {"ru": "файлов", "en": "files"},
    # Where a problem of the whole document or request is, in a check's message.
    "cli.whole_document": {"ru": "(документ целиком)", "en": "(document)"},
    "cli.whole_request": {"ru": "(запрос целиком)", "en": "(request)"},
    # argparse's own messages (tools/cli/parse_errors.py): the English is argparse's text,
    # word for word, by which its message is found; %-style, as argparse fills them. Its
    # "usage: " is not among them: the usage line, like --help, stays English.
    "cli.argparse.error": {
        "ru": "%(prog)s: ошибка: %(message)s\n",
        "en": "%(prog)s: error: %(message)s\n",
    },
    "cli.argparse.required": {
        "ru": "не указаны обязательные аргументы: %s",
        "en": "the following arguments are required: %s",
    },
    "cli.argparse.unrecognized": {
        "ru": "неизвестные аргументы: %s",
        "en": "unrecognized arguments: %s",
    },
    # tsdx's own tail of a refusal: the option a mistyped one most likely is.
    "cli.argparse.nearest": {
        "ru": "; может быть, %s?",
        "en": "; did you mean %s?",
    },
    "cli.argparse.instead": {
        "ru": "%(meant)s вместо %(given)s",
        "en": "%(meant)s instead of %(given)s",
    },
    "cli.argparse.argument": {
        "ru": "аргумент %(argument_name)s: %(message)s",
        "en": "argument %(argument_name)s: %(message)s",
    },
    "cli.argparse.choice": {
        "ru": "недопустимое значение %(value)r (допустимые: %(choices)s)",
        "en": "invalid choice: %(value)r (choose from %(choices)s)",
    },
    "cli.argparse.value": {
        "ru": "недопустимое значение %(value)r (ожидается %(type)s)",
        "en": "invalid %(type)s value: %(value)r",
    },
    "cli.argparse.one": {"ru": "нужно одно значение", "en": "expected one argument"},
    "cli.argparse.at_most_one": {
        "ru": "нужно не больше одного значения",
        "en": "expected at most one argument",
    },
    "cli.argparse.at_least_one": {
        "ru": "нужно хотя бы одно значение",
        "en": "expected at least one argument",
    },
    "cli.argparse.one_of": {
        "ru": "нужен один из аргументов %s",
        "en": "one of the arguments %s is required",
    },
    "cli.argparse.not_with": {
        "ru": "нельзя указывать вместе с аргументом %s",
        "en": "not allowed with argument %s",
    },
    "cli.argparse.ambiguous": {
        "ru": "неоднозначный аргумент %(option)s: может означать %(matches)s",
        "en": "ambiguous option: %(option)s could match %(matches)s",
    },
    "cli.argparse.explicit": {
        "ru": "лишнее значение %r",
        "en": "ignored explicit argument %r",
    },
    # The command's own checks of an option's value, said through the same lookup.
    "cli.argparse.not_number": {"ru": "не число: %(value)r", "en": "not a number: %(value)r"},
    "cli.argparse.not_whole": {
        "ru": "не целое число: %(value)r",
        "en": "not a whole number: %(value)r",
    },
    "cli.argparse.batch_range": {
        "ru": "должно быть от 1 до 10000",
        "en": "must be from 1 to 10000",
    },
    # tsdx upload, upload-status, devices, results.
    # The id tsdx tsd scan takes (README's «ид копии»).
    "cli.upload.delivery": {"ru": "копия {delivery}", "en": "delivery {delivery}"},
    "cli.upload.accepted": {
        "ru": "{file}: принят (запрос {request_id})",
        "en": "{file}: accepted (request {request_id})",
    },
    "cli.upload.refused": {
        "ru": "{file}: отклонён {code}: {message}",
        "en": "{file}: refused {code}: {message}",
    },
    "cli.upload.status": {"ru": "{request_id}: {status}", "en": "{request_id}: {status}"},
    "cli.col.device": {"ru": "УСТРОЙСТВО", "en": "DEVICE"},
    "cli.col.time": {"ru": "ВРЕМЯ", "en": "TIME"},
    "cli.journey.version": {"ru": "версия {version}", "en": "version {version}"},
    "cli.number": {"ru": "№ {number}", "en": "No. {number}"},
    "cli.col.step": {"ru": "ШАГ", "en": "STEP"},
    "cli.col.service": {"ru": "СЛУЖБА", "en": "SERVICE"},
    "cli.col.who": {"ru": "УСТРОЙСТВО / ПОЛЬЗОВАТЕЛЬ", "en": "DEVICE / USER"},
    "cli.col.details": {"ru": "ПОДРОБНОСТИ", "en": "DETAILS"},
    "cli.col.mode": {"ru": "РЕЖИМ", "en": "MODE"},
    "cli.col.last_seen": {"ru": "ПОСЛЕДНИЙ КОНТАКТ", "en": "LAST SEEN"},
    "cli.col.id": {"ru": "ИД", "en": "ID"},
    "cli.col.document": {"ru": "ДОКУМЕНТ", "en": "DOCUMENT"},
    "cli.col.process": {"ru": "БИЗНЕС-ПРОЦЕСС", "en": "PROCESS"},
    "cli.col.result_type": {"ru": "ВИД РЕЗУЛЬТАТА", "en": "RESULT TYPE"},
    "cli.col.state": {"ru": "СОСТОЯНИЕ", "en": "STATE"},
    "cli.col.completed": {"ru": "ЗАВЕРШЁН", "en": "COMPLETED"},
    "cli.col.line": {"ru": "СТРОКА", "en": "LINE"},
    "cli.col.product": {"ru": "ТОВАР", "en": "PRODUCT"},
    "cli.col.barcode": {"ru": "ШТРИХКОД", "en": "BARCODE"},
    "cli.col.quantity": {"ru": "КОЛИЧЕСТВО", "en": "QUANTITY"},
    "cli.col.user": {"ru": "ПОЛЬЗОВАТЕЛЬ", "en": "USER"},
    "cli.col.delivery": {"ru": "КОПИЯ", "en": "DELIVERY"},
    "cli.col.lines": {"ru": "СТРОК", "en": "LINES"},
    "cli.col.for": {"ru": "КОМУ", "en": "FOR"},
    "cli.col.taken_by": {"ru": "ВЗЯЛ", "en": "TAKEN BY"},
    "cli.col.pin": {"ru": "ПИН", "en": "PIN"},
    "cli.col.name": {"ru": "НАИМЕНОВАНИЕ", "en": "NAME"},
    "cli.col.model": {"ru": "МОДЕЛЬ", "en": "MODEL"},
    "cli.col.status": {"ru": "СОСТОЯНИЕ", "en": "STATUS"},
    "cli.col.hardware_id": {"ru": "ИД ОБОРУДОВАНИЯ", "en": "HARDWARE ID"},
    "cli.col.device_id": {"ru": "ИД УСТРОЙСТВА", "en": "DEVICE ID"},
    "cli.col.tenant": {"ru": "БАЗА", "en": "TENANT"},
    "cli.col.devices": {"ru": "УСТРОЙСТВ", "en": "DEVICES"},
    "cli.col.login": {"ru": "ЛОГИН", "en": "LOGIN"},
    "cli.col.groups": {"ru": "ГРУППЫ", "en": "GROUPS"},
    "cli.col.password": {"ru": "ПАРОЛЬ", "en": "PASSWORD"},
    "cli.col.group": {"ru": "ГРУППА", "en": "GROUP"},
    "cli.col.members": {"ru": "УЧАСТНИКИ", "en": "MEMBERS"},
    "cli.col.enabled": {"ru": "ВКЛЮЧЁН", "en": "ENABLED"},
    "cli.col.scope": {"ru": "ОБЛАСТЬ", "en": "SCOPE"},
    "cli.col.source_type": {"ru": "ДОКУМЕНТ УЧЁТА", "en": "SOURCE TYPE"},
    "cli.col.terminal_type": {"ru": "ДОКУМЕНТ ТСД", "en": "TERMINAL TYPE"},
    "cli.result.document": {"ru": "  документ   {value}", "en": "  document   {value}"},
    "cli.result.process": {
        "ru": "  процесс    {process} ({mode}), {state}",
        "en": "  process    {process} ({mode}), {state}",
    },
    "cli.result.completed": {"ru": "  завершён   {value}", "en": "  completed  {value}"},
    # tsdx tsd (a simulated terminal).
    "cli.tsd.paired": {
        "ru": "Подключён: {model} {hardware_id}, база {tenant}, {mode}",
        "en": "Paired: {model} {hardware_id}, base {tenant}, {mode}",
    },
    "cli.tsd.state_file": {"ru": "Файл состояния: {path}", "en": "State: {path}"},
    "cli.tsd.side_menu": {"ru": "Пин-код {pin}", "en": "PIN {pin}"},
    "cli.tsd.no_documents": {
        "ru": "Пин-код {pin}: документов нет",
        "en": "PIN {pin}: no documents",
    },
    "cli.tsd.withdrawn": {
        "ru": "отозван: {delivery} ({reason})",
        "en": "withdrawn: {delivery} ({reason})",
    },
    "cli.tsd.document_dated": {"ru": "{title} от {date}", "en": "{title} of {date}"},
    "cli.tsd.downloaded": {"ru": "загружен на ТСД", "en": "downloaded"},
    "cli.tsd.partial_sent": {
        "ru": "отправлен частичный результат (строк: {sent} из {total})",
        "en": "partial result sent ({sent} of {total} lines)",
    },
    "cli.tsd.final_sent": {
        "ru": "отправлен окончательный результат (строк: {total})",
        "en": "final result sent ({total} lines)",
    },
    "cli.tsd.final_sent_over": {
        "ru": "отправлен окончательный результат (строк: {total}, в строке 1 на одну больше плана)",
        "en": "final result sent ({total} lines, line 1 one over plan)",
    },
    "cli.tsd.final_sent_status": {
        "ru": "отправлен окончательный результат (строк: {total}): {status}",
        "en": "final result sent ({total} lines): {status}",
    },
    "cli.tsd.run_finished": {
        "ru": "[{pin}] завершён {title} (строк: {lines})",
        "en": "[{pin}] finished {title} ({lines} lines)",
    },
    "cli.tsd.run_terminal": {
        "ru": "терминал {number}: пин-код {pin}  {model} ({hardware_id})",
        "en": "terminal {number}: PIN {pin}  {model} ({hardware_id})",
    },
    "cli.tsd.run_waiting": {
        "ru": "Терминалов ждут документы: {count}; остановка — Ctrl-C",
        "en": "{count} terminals waiting for documents; Ctrl-C stops",
    },
    "cli.tsd.run_lost": {
        "ru": "[{pin}] сервер не отвечает ({transport_error}); терминал повторяет запрос",
        "en": "[{pin}] the server does not answer ({transport_error}); the terminal tries again",
    },
    "cli.tsd.run_back": {
        "ru": "[{pin}] связь с сервером восстановлена",
        "en": "[{pin}] the server answers again",
    },
    "cli.tsd.run_total": {
        "ru": "Завершено документов: {finished}, терминалов: {terminals}",
        "en": "{finished} documents finished by {terminals} terminals",
    },
    "cli.tsd.logged_in": {
        "ru": "Вход выполнен: {name} ({login}), группы: {groups}",
        "en": "Logged in: {name} ({login}), groups: {groups}",
    },
    "cli.tsd.lan_no_documents": {"ru": "{login}: документов нет", "en": "{login}: no documents"},
    "cli.tsd.taken_by": {"ru": "взят в работу: {login}", "en": "taken by {login}"},
    "cli.tsd.logged_out": {"ru": "{login}: выход выполнен", "en": "{login}: logged out"},
    # tsdx up.
    "cli.broker.none": {
        "ru": "RabbitMQ не отвечает по адресу {url}.\n"
        "Установите и запустите его, например в Debian/Ubuntu:\n"
        "    sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached\n"
        "или укажите работающий брокер в TSDX_AMQP_URL.",
        "en": "No RabbitMQ answers at {url}.\n"
        "Install and start one, e.g. on Debian/Ubuntu:\n"
        "    sudo apt-get install -y rabbitmq-server && sudo rabbitmq-server -detached\n"
        "or point TSDX_AMQP_URL at a running broker.",
    },
    "cli.up.running": {
        "ru": "tsdx работает. Остановка — Ctrl-C.",
        "en": "tsdx is running. Ctrl-C stops it.",
    },
    "cli.up.gateway": {
        "ru": "  шлюз       {url}   (документация API: {url}/docs)",
        "en": "  gateway    {url}   (API docs: {url}/docs)",
    },
    "cli.up.service": {"ru": "  {service:<10} {url}", "en": "  {service:<10} {url}"},
    "cli.up.storage": {
        "ru": "  хранилище  {store}",
        "en": "  storage    {store}",
    },
    "cli.up.broker": {"ru": "  брокер     {address}", "en": "  broker     {address}"},
    "cli.up.logs": {"ru": "  журналы    {path}", "en": "  logs       {path}"},
    "cli.up.default_admin_token": {
        "ru": "  ВНИМАНИЕ: токен администратора по умолчанию ({token}): задайте свой в "
        "TSDX_ADMIN_TOKEN, прежде чем открывать доступ к tsdx",
        "en": "  WARNING: the admin token is the default ({token}): set your own in "
        "TSDX_ADMIN_TOKEN before anyone else can reach tsdx",
    },
    "cli.up.stopping": {"ru": "tsdx: остановка…", "en": "tsdx: stopping…"},
    "cli.up.all_stopped": {"ru": "tsdx остановлен.", "en": "tsdx stopped."},
    "cli.up.not_started": {
        "ru": "tsdx: сервер не запустился.",
        "en": "tsdx: the stack did not start.",
    },
    "cli.up.exited": {
        "ru": "  служба {service} завершилась с кодом {code}",
        "en": "  {service} exited with code {code}",
    },
    "cli.up.not_ready": {
        "ru": "  службы не ответили о готовности за {seconds} с",
        "en": "  the services were not ready within {seconds} s",
    },
    "cli.up.port_taken": {
        "ru": "tsdx: порт {port} службы {service} занят ({reason}). Может быть, tsdx уже "
        "запущен здесь? Остановите его или дайте службе {service} другой порт ({setting}).",
        "en": "tsdx: port {port} of the {service} is taken ({reason}). Is tsdx already "
        "running here? Stop it, or give the {service} another port ({setting}).",
    },
    "cli.up.log_tail": {"ru": "  конец журнала {path}:", "en": "  the end of {path}:"},
    "cli.up.restarted": {
        "ru": "tsdx: служба {service} запущена снова",
        "en": "tsdx: {service} started again",
    },
    "cli.up.stopped": {
        "ru": "tsdx: служба {service} неожиданно остановилась (код выхода {code})",
        "en": "tsdx: {service} stopped unexpectedly (exit code {code})",
    },
    "cli.up.store_too_new": {
        "ru": "tsdx: данные службы {service} записаны более новой версией tsdx; служба не будет "
        "перезапущена: запустите ту версию или восстановите резервную копию, сделанную этой",
        "en": "tsdx: the {service}'s data was written by a newer release of tsdx; it is not "
        "started again: run that release, or restore a backup made by this one",
    },
    "cli.up.retry_in": {
        "ru": "tsdx: она остановилась вскоре после запуска; новая попытка через {delay} с",
        "en": "tsdx: it stopped soon after starting; trying again in {delay} s",
    },
    # tsdx tenant, device, user, group (the operators' commands).
    "cli.admin.refused": {
        "ru": "tsdx: отказ: {code}: {message}",
        "en": "tsdx: refused: {code}: {message}",
    },
    "cli.admin.no_password": {
        "ru": "пароль не указан (--password или одна строка на стандартном вводе)",
        "en": "no password given (--password, or one line on standard input)",
    },
    "cli.admin.new_password": {"ru": "Новый пароль: ", "en": "New password: "},
    "cli.admin.repeat_password": {"ru": "Повторите пароль: ", "en": "Repeat the password: "},
    "cli.admin.passwords_differ": {
        "ru": "пароли пустые или не совпадают",
        "en": "the passwords are empty or do not match",
    },
    "cli.admin.device": {
        "ru": "Устройство {pin} ({name}, {hardware_id}): {status}, {mode}; ид {device_id}",
        "en": "Device {pin} ({name}, {hardware_id}): {status}, {mode}; id {device_id}",
    },
    "cli.admin.user": {
        "ru": "Пользователь {login} ({name}); группы: {groups}",
        "en": "User {login} ({name}); groups: {groups}",
    },
    "cli.admin.group": {"ru": "Группа {group}: {members}", "en": "Group {group}: {members}"},
    "cli.admin.no_members": {"ru": "участников нет", "en": "no members"},
    "cli.admin.tenant_created": {
        "ru": "База {tenant} ({name}) создана.",
        "en": "Base {tenant} ({name}) created.",
    },
    "cli.admin.api_key": {"ru": "  Ключ API:           {key}", "en": "  API key:          {key}"},
    "cli.admin.connection_code": {
        "ru": "  Код подключения:    {code}",
        "en": "  Connection code:  {code}",
    },
    "cli.admin.write_down": {
        "ru": "Запишите их сейчас: больше они не будут показаны.",
        "en": "Write them down now: they are not shown again.",
    },
    "cli.admin.new_key": {
        "ru": "Новый ключ API базы {tenant}: {key}",
        "en": "New API key of {tenant}: {key}",
    },
    "cli.admin.old_key_refused": {
        "ru": "Старый ключ больше не принимается. Новый не будет показан снова.",
        "en": "The old key is refused from now on. The new one is not shown again.",
    },
    "cli.admin.code_as_qr": {
        "ru": "Код подключения QR-кодом, для экрана подключения терминала:",
        "en": "The connection code as a QR code, for the terminal's pairing screen:",
    },
    "cli.admin.new_code": {
        "ru": "Новый код подключения базы {tenant}: {code}",
        "en": "New connection code of {tenant}: {code}",
    },
    "cli.admin.devices_stay": {
        "ru": "Уже подключённые устройства остаются подключёнными. Код не будет показан снова.",
        "en": "Devices already paired stay paired. The code is not shown again.",
    },
    "cli.admin.replaced": {
        "ru": "Устройство {new_name} ({new_hardware_id}) заменяет {old_name} "
        "({old_hardware_id}): у него пин-код {pin} и ещё не загруженные документы.",
        "en": "Device {new_name} ({new_hardware_id}) replaces {old_name} "
        "({old_hardware_id}): it has PIN {pin} and the documents not yet downloaded.",
    },
    "cli.admin.deleted": {"ru": "Удалено: {name}.", "en": "Deleted {name}."},
    # tsdx process.
    "cli.process.scope": {"ru": "# {scope}, {enabled}", "en": "# {scope}, {enabled}"},
    "cli.process.imported": {
        "ru": "{path}: загружено {count}: {names}",
        "en": "{path}: imported {count}: {names}",
    },
    "cli.process.exported": {"ru": "{path}: строк {count}", "en": "{path}: {count} lines"},
    "cli.process.changed": {"ru": "{id}: {state}", "en": "{id}: {state}"},
    # tsdx demo: the story's header, chapters, what each shows and what a failed check saw.
    "cli.demo.header": {"ru": "tsdx demo: сервер {url}", "en": "tsdx demo against {url}"},
    "cli.demo.step.create_base": {
        "ru": "Администратор создаёт базу",
        "en": "An administrator creates a base",
    },
    "cli.demo.step.pair_terminal": {
        "ru": "Терминал подключается и показывает пин-код",
        "en": "A terminal pairs and shows its PIN",
    },
    "cli.demo.step.upload_by_pin": {
        "ru": "Оператор выгружает «{type}» по пин-коду",
        "en": "The operator uploads «{type}» by PIN",
    },
    "cli.demo.step.wrong_pin": {
        "ru": "Неверный пин-код отклонён",
        "en": "A wrong PIN is refused",
    },
    "cli.demo.step.device_list": {
        "ru": "Терминал есть в списке устройств базы",
        "en": "The terminal is in the base's device list",
    },
    "cli.demo.step.upload_from_list": {
        "ru": "Вторая выгрузка выбирает устройство из списка",
        "en": "The second upload picks the device from the list",
    },
    "cli.demo.step.scan_and_finish": {
        "ru": "Терминал сканирует и завершает документы",
        "en": "The terminal scans and finishes",
    },
    "cli.demo.step.online_result": {
        "ru": "Онлайн: результаты возвращаются",
        "en": "Online: the results come back",
    },
    "cli.demo.step.offline_waits": {
        "ru": "Офлайн: результат ждёт на сервере",
        "en": "Offline: the result waits on the server",
    },
    "cli.demo.step.mark_loaded": {
        "ru": "Оператор загружает его",
        "en": "The operator loads it",
    },
    "cli.demo.step.lan_group": {
        "ru": "Локальная сеть: выгрузка группе пользователей",
        "en": "LAN: an upload to a group of users",
    },
    "cli.demo.base_created": {
        "ru": "база {tenant}, код подключения {code}",
        "en": "base {tenant}, connection code {code}",
    },
    "cli.demo.shows_pin": {
        "ru": "{model} {hardware_id} показывает пин-код {pin}",
        "en": "{model} {hardware_id} shows PIN {pin}",
    },
    "cli.demo.wrong_pin_refused": {
        "ru": "пин-код {pin}: «{message}» (ничего не отправлено)",
        "en": "PIN {pin}: «{message}» (nothing sent)",
    },
    "cli.demo.list_offers": {
        "ru": "список предлагает «{title}»",
        "en": "the list offers «{title}»",
    },
    "cli.demo.picked_from_list": {
        "ru": "«{type}» № {number} → {pin}, выбрано из списка (пин-код не вводился)",
        "en": "«{type}» No. {number} → {pin}, picked from the list (no PIN typed)",
    },
    "cli.demo.scanned": {
        "ru": "{numbers}: отсканированы (факт = план); отправлены частичный, "
        "затем окончательный результаты",
        "en": "{numbers} scanned (fact = plan); partial, then final results sent",
    },
    "cli.demo.results_back": {
        "ru": "результатов в GET /api/v1/results: {count}, вид «{type}», факт = план",
        "en": "{count} results in GET /api/v1/results as «{type}», fact = plan",
    },
    "cli.demo.offline_finished": {
        "ru": "офлайн-терминал {pin} завершил {number}; результат ждёт загрузки",
        "en": "offline terminal {pin} finished {number}; it waits to be loaded",
    },
    "cli.demo.marked_loaded": {
        "ru": "{number} отмечен загруженным и больше не ждёт",
        "en": "{number} marked loaded; no longer waiting",
    },
    "cli.demo.lan_finished": {
        "ru": "{number} → группа «{group}»; {login} взял его, завершил, результат вернулся",
        "en": "{number} → group «{group}»; {login} took it, finished it, the result is back",
    },
    "cli.demo.skipped": {"ru": "пропущен ({why})", "en": "skipped ({why})"},
    "cli.demo.no_answer": {
        "ru": "сервер не отвечает ({transport_error})",
        "en": "no answer from the server ({transport_error})",
    },
    # Why a call got no answer (httpx's transport errors, by their class), as a reader says it.
    "cli.transport.ConnectError": {
        "ru": "соединение не установлено: сервер не запущен или адрес неверен",
        "en": "could not connect: the server is not running, or the address is wrong",
    },
    "cli.transport.ConnectTimeout": {
        "ru": "соединение не установлено за отведённое время",
        "en": "could not connect in time",
    },
    "cli.transport.ReadTimeout": {
        "ru": "ответа нет за отведённое время",
        "en": "no answer in time",
    },
    "cli.transport.WriteTimeout": {
        "ru": "запрос не отправлен за отведённое время",
        "en": "the request could not be sent in time",
    },
    "cli.transport.PoolTimeout": {
        "ru": "нет свободного соединения за отведённое время",
        "en": "no free connection in time",
    },
    "cli.transport.RemoteProtocolError": {
        "ru": "соединение оборвалось (сервер перезапускается или его остановили)",
        "en": "the connection broke off (the server restarting or stopped)",
    },
    "cli.transport.ReadError": {
        "ru": "соединение оборвалось при чтении ответа",
        "en": "the connection broke off while the answer was read",
    },
    "cli.transport.WriteError": {
        "ru": "соединение оборвалось при отправке запроса",
        "en": "the connection broke off while the request was sent",
    },
    "cli.demo.summary": {"ru": "Шагов пройдено: {passed}", "en": "{passed} steps passed"},
    "cli.demo.summary_skipped": {
        "ru": "Шагов пройдено: {passed}, пропущено: {skipped}",
        "en": "{passed} steps passed, {skipped} skipped",
    },
    "cli.demo.no_lan": {
        "ru": "API локальной сети не отвечает по адресу {url}",
        "en": "no LAN API answers at {url}",
    },
    "cli.demo.not_seen": {
        "ru": "{what}: не дождались за {timeout} с",
        "en": "{what}: not seen in {timeout} s",
    },
    "cli.demo.wait.first_document": {
        "ru": "первый документ на терминале",
        "en": "the first document",
    },
    "cli.demo.wait.two_documents": {
        "ru": "два документа на терминале",
        "en": "two documents in the inbox",
    },
    "cli.demo.wait.both_results": {
        "ru": "оба результата в GET /api/v1/results",
        "en": "both results in GET /api/v1/results",
    },
    "cli.demo.wait.offline_copy": {
        "ru": "копия на офлайн-терминале",
        "en": "the offline copy",
    },
    "cli.demo.wait.offline_result": {
        "ru": "офлайн-результат, ожидающий загрузки",
        "en": "the offline result waiting to be loaded",
    },
    "cli.demo.wait.lan_document": {
        "ru": "документ в списке пользователя {login}",
        "en": "the document in {login}'s list",
    },
    "cli.demo.wait.lan_result": {
        "ru": "результат из локальной сети в GET /api/v1/results",
        "en": "the LAN result in GET /api/v1/results",
    },
    "cli.demo.check.pin_digits": {
        "ru": "пин-код не из цифр: {pin}",
        "en": "the PIN is not digits: {pin}",
    },
    "cli.demo.check.menu_pin": {
        "ru": "боковое меню показывает {shown}, при подключении выдан {pin}",
        "en": "the side menu shows {shown}, pairing gave {pin}",
    },
    "cli.demo.check.elsewhere": {
        "ru": "доставлено не туда: {delivery}",
        "en": "delivered elsewhere: {delivery}",
    },
    "cli.demo.check.not_refused": {"ru": "не отклонено: {answer}", "en": "not refused: {answer}"},
    "cli.demo.check.code": {"ru": "код {code}", "en": "code {code}"},
    "cli.demo.check.message": {"ru": "сообщение {message}", "en": "message {message}"},
    "cli.demo.check.holds": {"ru": "на терминале {numbers}", "en": "the terminal holds {numbers}"},
    "cli.demo.check.not_listed": {
        "ru": "«{title}» нет среди {titles}",
        "en": "«{title}» not in {titles}",
    },
    "cli.demo.check.mode": {"ru": "режим {mode}", "en": "mode {mode}"},
    "cli.demo.check.state": {"ru": "состояние {state}", "en": "state {state}"},
    "cli.demo.check.facts": {
        "ru": "факт {facts} отличается от плана {planned}",
        "en": "facts {facts} differ from the plan {planned}",
    },
    "cli.demo.check.not_loaded": {
        "ru": "результат не отмечен загруженным",
        "en": "the result is not marked loaded",
    },
    "cli.demo.check.still_waiting": {
        "ru": "загруженный результат всё ещё в списке ожидающих",
        "en": "the loaded result is still listed as waiting",
    },
    "cli.demo.check.deliveries": {
        "ru": "копий {count} вместо одной",
        "en": "{count} deliveries instead of 1",
    },
    # ------------------------------------------------------------------------------------------
    # The operator's dashboard (services/dashboard): headings, columns, buttons. The page gets
    # all of them without the prefix; its script uses them for live rows.
    "dashboard.title": {"ru": "tsdx — панель оператора", "en": "tsdx — operator dashboard"},
    "dashboard.subtitle": {
        "ru": "Маршрутизация документов в реальном времени",
        "en": "Document routing, live",
    },
    "dashboard.updated": {"ru": "Обновлено", "en": "Updated"},
    "dashboard.no_answer": {"ru": "Панель не отвечает", "en": "The dashboard does not answer"},
    "dashboard.since_start": {
        "ru": "Счётчики и лента — с запуска панели",
        "en": "Counters and feed since the dashboard started",
    },
    "dashboard.noscript": {
        "ru": "Для обновления в реальном времени нужен JavaScript.",
        "en": "Live updates need JavaScript.",
    },
    "dashboard.counters": {"ru": "Счётчики", "en": "Counters"},
    "dashboard.c_accepted": {"ru": "Запросов принято", "en": "Requests accepted"},
    "dashboard.c_refused": {"ru": "Запросов отклонено", "en": "Requests refused"},
    "dashboard.c_routed_internet": {"ru": "Копий через интернет", "en": "Copies via the internet"},
    "dashboard.c_routed_lan": {"ru": "Копий в локальную сеть", "en": "Copies to the LAN"},
    "dashboard.c_completed": {"ru": "Документов завершено", "en": "Documents completed"},
    "dashboard.c_results_refused": {"ru": "Результатов отклонено", "en": "Results refused"},
    "dashboard.throughput_title": {
        "ru": "Решения за каждые {seconds} с",
        "en": "Decisions per {seconds} s",
    },
    "dashboard.legend_accepted": {"ru": "приняты", "en": "accepted"},
    "dashboard.legend_refused": {"ru": "отклонены", "en": "refused"},
    "dashboard.throughput_window": {
        "ru": "последние {minutes} мин, справа — сейчас",
        "en": "the last {minutes} min, now on the right",
    },
    "dashboard.peak": {"ru": "максимум {count}", "en": "peak {count}"},
    "dashboard.feed_title": {"ru": "Лента решений", "en": "Decision feed"},
    "dashboard.col_time": {"ru": "Время", "en": "Time"},
    "dashboard.col_tenant": {"ru": "База", "en": "Base"},
    "dashboard.col_request": {"ru": "Запрос / документ", "en": "Request / document"},
    "dashboard.col_process": {"ru": "Бизнес-процесс", "en": "Business process"},
    "dashboard.col_channel": {"ru": "Канал", "en": "Channel"},
    "dashboard.col_target": {"ru": "Получатель", "en": "Target"},
    "dashboard.col_outcome": {"ru": "Итог", "en": "Outcome"},
    "dashboard.col_latency": {"ru": "Задержка", "en": "Latency"},
    "dashboard.outcome_accepted": {"ru": "принят", "en": "accepted"},
    "dashboard.outcome_refused": {"ru": "отклонён", "en": "refused"},
    "dashboard.outcome_completed": {"ru": "документ завершён", "en": "document completed"},
    "dashboard.outcome_result_refused": {"ru": "результат отклонён", "en": "result refused"},
    "dashboard.repeat": {"ru": "повтор", "en": "repeat"},
    "dashboard.channel_internet": {"ru": "интернет", "en": "internet"},
    "dashboard.channel_lan": {"ru": "локальная сеть", "en": "LAN"},
    "dashboard.target_pin": {"ru": "пин", "en": "PIN"},
    "dashboard.target_device": {"ru": "устройство", "en": "device"},
    "dashboard.target_group": {"ru": "группа", "en": "group"},
    "dashboard.target_user": {"ru": "пользователь", "en": "user"},
    "dashboard.target_everyone": {"ru": "все", "en": "everyone"},
    "dashboard.ms": {"ru": "мс", "en": "ms"},
    "dashboard.empty_feed": {"ru": "Решений пока не было", "en": "No decisions yet"},
    "dashboard.refusals_title": {"ru": "Отказы по кодам", "en": "Refusals by code"},
    "dashboard.col_kind": {"ru": "Что", "en": "What"},
    "dashboard.col_code": {"ru": "Код", "en": "Code"},
    "dashboard.col_message": {"ru": "Сообщение", "en": "Message"},
    "dashboard.col_count": {"ru": "Сколько", "en": "Count"},
    "dashboard.kind_upload": {"ru": "выгрузка", "en": "upload"},
    "dashboard.kind_result": {"ru": "результат", "en": "result"},
    "dashboard.empty_refusals": {"ru": "Отказов не было", "en": "No refusals"},
    "dashboard.queues_title": {"ru": "Очереди", "en": "Queues"},
    "dashboard.col_queue": {"ru": "Очередь", "en": "Queue"},
    "dashboard.col_type": {"ru": "Тип", "en": "Type"},
    "dashboard.col_ready": {"ru": "Ждут", "en": "Ready"},
    "dashboard.col_unacked": {"ru": "В обработке", "en": "In hand"},
    "dashboard.col_consumers": {"ru": "Потребители", "en": "Consumers"},
    "dashboard.col_retrying": {"ru": "На повторе", "en": "Retrying"},
    "dashboard.col_parked": {"ru": "Отложены", "en": "Parked"},
    "dashboard.queue_quorum": {"ru": "кворумная", "en": "quorum"},
    "dashboard.queue_classic": {"ru": "классическая", "en": "classic"},
    "dashboard.queue_stream": {"ru": "поток", "en": "stream"},
    "dashboard.devices_title": {"ru": "Устройства", "en": "Devices"},
    "dashboard.col_pin": {"ru": "Пин", "en": "PIN"},
    "dashboard.col_device": {"ru": "Устройство", "en": "Device"},
    "dashboard.col_mode": {"ru": "Режим", "en": "Mode"},
    "dashboard.col_status": {"ru": "Состояние", "en": "Status"},
    "dashboard.col_presence": {"ru": "На связи", "en": "Online"},
    "dashboard.col_last_seen": {"ru": "Последний контакт", "en": "Last seen"},
    "dashboard.mode_online": {"ru": "онлайн", "en": "online"},
    "dashboard.mode_offline": {"ru": "офлайн", "en": "offline"},
    "dashboard.status_active": {"ru": "активно", "en": "active"},
    "dashboard.status_blocked": {"ru": "заблокировано", "en": "blocked"},
    "dashboard.status_retired": {"ru": "выведено", "en": "retired"},
    "dashboard.presence_online": {"ru": "в сети", "en": "online"},
    "dashboard.presence_offline": {"ru": "не в сети", "en": "offline"},
    "dashboard.presence_unknown": {"ru": "нет данных", "en": "unknown"},
    "dashboard.empty_devices": {"ru": "Устройств пока нет", "en": "No devices yet"},
    "dashboard.parked_title": {"ru": "Отложенные сообщения", "en": "Parked messages"},
    "dashboard.admin_token": {"ru": "Токен администратора", "en": "Admin token"},
    "dashboard.col_message_id": {"ru": "Сообщение", "en": "Message"},
    "dashboard.col_reason": {"ru": "Причина", "en": "Reason"},
    "dashboard.col_parked_at": {"ru": "Отложено", "en": "Parked at"},
    "dashboard.replay": {"ru": "Вернуть в очередь", "en": "Replay"},
    "dashboard.replayed": {"ru": "Возвращено в очередь: {count}", "en": "Replayed: {count}"},
    "dashboard.discard": {"ru": "Удалить", "en": "Discard"},
    "dashboard.discard_confirm": {
        "ru": "Удалить отложенное сообщение {message} из очереди {queue} навсегда? Вернуть его "
        "будет нельзя: удаляйте только то, что никогда не сможет обработаться.",
        "en": "Delete the parked message {message} of {queue} for good? It cannot be brought "
        "back: delete only what can never be applied.",
    },
    "dashboard.discarded": {"ru": "Удалено сообщений: {count}", "en": "Discarded: {count}"},
    "dashboard.unreachable": {
        "ru": "сервер панели недоступен",
        "en": "the dashboard's server cannot be reached",
    },
    "dashboard.http_error": {"ru": "ошибка HTTP {status}", "en": "HTTP error {status}"},
    "dashboard.token_needed": {
        "ru": "Введите токен администратора: данные панели только для операторов.",
        "en": "Enter the admin token: the dashboard's figures are for operators only.",
    },
    "dashboard.empty_parked": {"ru": "Отложенных сообщений нет", "en": "No parked messages"},
    # Bases and their connection codes.
    "dashboard.bases_title": {"ru": "Учётные базы", "en": "Accounting bases"},
    "dashboard.col_name": {"ru": "Название", "en": "Name"},
    "dashboard.col_devices": {"ru": "Устройств", "en": "Devices"},
    "dashboard.empty_bases": {"ru": "Баз пока нет", "en": "No bases yet"},
    "dashboard.new_code": {"ru": "Новый код подключения", "en": "New connection code"},
    "dashboard.new_code_confirm": {
        "ru": "Выдать базе {tenant} новый код подключения? Старый код перестанет подходить "
        "для новых терминалов; уже подключённые продолжат работать.",
        "en": "Issue a new connection code for base {tenant}? The old code stops pairing new "
        "terminals; terminals already paired keep working.",
    },
    "dashboard.new_code_shown": {
        "ru": "Код подключения базы {tenant}: {code}. Отсканируйте QR-код на экране "
        "подключения терминала. Код больше не будет показан.",
        "en": "Connection code of base {tenant}: {code}. Scan the QR code on the terminal's "
        "pairing screen. The code is not shown again.",
    },
    "dashboard.qr_title": {
        "ru": "Код подключения базы {tenant}",
        "en": "Connection code of base {tenant}",
    },
}
