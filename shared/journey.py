"""A document's journey: the one list of its steps, their Russian and English names, and how
the two services that record them are put together into one timeline.

Each step is recorded where it happens, by the service that owns the data it concerns:

- routing records the steps of the document and its copies (``ROUTING_STEPS``) in its journal,
  inside the transaction that applies the message reporting them (services/routing/journey.py);
- the gateway keeps the pushes of the result to the base's webhook and the first time the
  accounting side read it (``GATEWAY_STEPS``) in its own store (services/gateway/journeys.py),
  and answers them over RPC (``document.result_steps`` on ``gateway.rpc``).

Whoever shows a journey (the accounting and admin API of the gateway, hence ``tsdx document
show``, and the dashboard) asks both and joins them with ``joined``: no message is published
for the journey's sake, and no service reads another one's store.
"""

from __future__ import annotations

from typing import Any, Literal

Labels = dict[Literal["ru", "en"], str]

ROUTING_STEPS: dict[str, Labels] = {
    # the accounting side asked to upload it
    "requested": {"ru": "запрошена выгрузка", "en": "upload requested"},
    # the upload was refused (code)
    "refused": {"ru": "выгрузка отклонена", "en": "upload refused"},
    # the upload was accepted (process, version)
    "decided": {"ru": "выгрузка принята", "en": "upload accepted"},
    # a terminal started the document itself (process, device or user)
    "created": {"ru": "создан на ТСД", "en": "created on a terminal"},
    # a copy was made for a device, user, group or everyone
    "routed": {"ru": "направлен", "en": "routed"},
    # a copy was taken back (reason: replaced, recalled)
    "withdrawn": {"ru": "отозван", "en": "withdrawn"},
    # a copy went to the device that replaced its own (from_device, target)
    "moved": {"ru": "передан заменившему ТСД", "en": "moved to the replacement device"},
    # a copy was taken back: its device was blocked or retired before routing learned it (code)
    "returned": {"ru": "возвращён в учётную систему", "en": "returned to accounting"},
    # the channel stored the copy in a device inbox or the LAN base
    "delivered": {"ru": "доставлен", "en": "delivered"},
    # a terminal confirmed the download
    "downloaded": {"ru": "загружен на ТСД", "en": "downloaded"},
    # a LAN user took the copy
    "taken": {"ru": "взят в работу", "en": "taken"},
    # the LAN user (or an operator) let it go
    "released": {"ru": "освобождён", "en": "released"},
    # a partial or final result arrived (final, lines, user)
    "result": {"ru": "результат", "en": "result"},
    # a result was refused (code)
    "result_refused": {"ru": "результат отклонён", "en": "result refused"},
    # every copy done: the merged result was announced (mode)
    "completed": {"ru": "завершён", "en": "completed"},
    # the next business process was started for it
    "follow_up": {"ru": "запущен следующий бизнес-процесс", "en": "next business process started"},
    # the accounting side confirmed it loaded the result
    "loaded": {"ru": "загружен в учётную систему", "en": "loaded into accounting"},
    # shown, not recorded: a copy still waits on a device that is blocked or retired now, so
    # it does not arrive until the device is let in again (code: device_blocked, …_retired)
    "held": {
        "ru": "ждёт: устройство заблокировано или выведено из работы",
        "en": "waiting: the device is blocked or retired",
    },
}

GATEWAY_STEPS: dict[str, Labels] = {
    # the result was pushed to the base's webhook (attempts)
    "pushed": {"ru": "отправлен в учётную систему", "en": "pushed to accounting"},
    # every attempt to push it failed (attempts)
    "push_failed": {
        "ru": "не удалось отправить в учётную систему",
        "en": "push to accounting failed",
    },
    # the accounting side read the result for the first time (GET /api/v1/results/{id})
    "pulled": {"ru": "получен учётной системой", "en": "pulled by accounting"},
}

assert not ROUTING_STEPS.keys() & GATEWAY_STEPS.keys(), "a step has two owners"

# Every step, in the order a document usually takes them.
STEPS: dict[str, Labels] = {**ROUTING_STEPS, **GATEWAY_STEPS}


def step_label_code(step: str) -> str:
    """The message code (shared/i18n.py) that names a step."""
    return f"journey_step_{step}"


def joined(view: dict[str, Any], gateway_steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Routing's view of a document with the gateway's steps put into its timeline by time.

    The sort is stable: steps recorded at the same moment keep routing's order, and a gateway
    step at the same moment as routing's comes after it.
    """
    timeline = [*view["timeline"], *gateway_steps]
    return {**view, "timeline": sorted(timeline, key=lambda s: s["at"])}
