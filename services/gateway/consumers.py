"""What the gateway takes from the broker: each message type goes to one use case of the
inbox (the consumer has decoded and checked the message already), and its RPC methods (queue
``gateway.rpc``): ``document.result_steps``, the steps of a document's journey only the
gateway keeps, for the dashboard (shared/journey.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from services.gateway.inbox import Inbox
from services.gateway.journeys import result_steps
from shared.contracts import Envelope
from shared.contracts.directory import (
    DeviceChanged,
    DeviceChangedV1,
    DeviceReplaced,
    TenantChanged,
)
from shared.contracts.results import (
    DocumentCompleted,
    DocumentCompletedV1,
    DocumentCompletedV2,
    ResultRefused,
)
from shared.contracts.uploads import (
    DocumentReturned,
    DocumentRouted,
    DocumentWithdrawn,
    UploadDecided,
)
from shared.errors import Refusal
from shared.messaging.consumer import Handler
from shared.messaging.rpc import Method, Params, parse_params
from shared.storage import Store


def table(inbox: Inbox) -> dict[type, Handler]:
    return {
        DocumentRouted: inbox.routed,
        DocumentWithdrawn: inbox.withdrawn,
        DocumentReturned: inbox.returned,
        UploadDecided: inbox.decided,
        DocumentCompleted: inbox.completed,
        DocumentCompletedV1: inbox.completed_v1,
        DocumentCompletedV2: inbox.completed_v1,
        ResultRefused: inbox.result_refused,
        DeviceChanged: inbox.device_changed,
        DeviceChangedV1: inbox.device_changed_v1,
        DeviceReplaced: inbox.device_replaced,
        TenantChanged: inbox.tenant_changed,
    }


class ByDocument(Params):
    document_id: str = Field(min_length=1, max_length=200)


def methods(store: Store) -> dict[str, Method]:
    async def document_result_steps(env: Envelope, params: dict[str, Any]) -> Any:
        if not env.tenant:
            raise Refusal("validation_error", 422, details="tenant: required")
        document_id = parse_params(ByDocument, params).document_id
        return {"steps": await result_steps(store, env.tenant, document_id)}

    return {"document.result_steps": document_result_steps}
