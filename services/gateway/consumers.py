"""What the gateway takes from the broker: each message type goes to one use case of the
inbox (the consumer has decoded and checked the message already)."""

from __future__ import annotations

from services.gateway.inbox import Inbox
from shared.contracts.directory import DeviceChanged, DeviceReplaced, TenantChanged
from shared.contracts.results import (
    DocumentCompleted,
    DocumentCompletedV1,
    DocumentCompletedV2,
    ResultRefused,
)
from shared.contracts.uploads import DocumentRouted, DocumentWithdrawn, UploadDecided
from shared.messaging.consumer import Handler


def table(inbox: Inbox) -> dict[type, Handler]:
    return {
        DocumentRouted: inbox.routed,
        DocumentWithdrawn: inbox.withdrawn,
        UploadDecided: inbox.decided,
        DocumentCompleted: inbox.completed,
        DocumentCompletedV1: inbox.completed_v1,
        DocumentCompletedV2: inbox.completed_v1,
        ResultRefused: inbox.result_refused,
        DeviceChanged: inbox.device_changed,
        DeviceReplaced: inbox.device_replaced,
        TenantChanged: inbox.tenant_changed,
    }
