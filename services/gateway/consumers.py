"""What the gateway takes from the broker: each message type goes to one use case of the
inbox (the consumer has decoded and checked the message already), and each of its RPC methods
declared in ``shared.contracts.gateway_rpc`` to the call that answers it."""

from __future__ import annotations

from services.gateway.inbox import Inbox
from services.gateway.journeys import result_steps
from services.gateway.routed_copies import RoutedCopies
from shared.contracts import Envelope
from shared.contracts import gateway_rpc as gateway
from shared.contracts.directory import (
    DeviceChanged,
    DeviceChangedV1,
    DeviceReplaced,
    TenantChanged,
)
from shared.contracts.envelope import Payload
from shared.contracts.gateway_rpc import Gateway
from shared.contracts.results import (
    DocumentCompleted,
    DocumentCompletedV1,
    DocumentCompletedV2,
    ResultRefused,
)
from shared.contracts.rpc import Call
from shared.contracts.uploads import (
    DocumentReturned,
    DocumentRoutedV1,
    DocumentWithdrawn,
    UploadDecided,
)
from shared.logging import get_logger
from shared.messaging.consumer import Handler
from shared.messaging.rpc import RpcHandlers
from shared.outbox import AlreadyApplied
from shared.storage import Store

log = get_logger("tsdx.gateway.consumers")


def table(inbox: Inbox) -> dict[type[Payload], Handler]:
    handlers: dict[type[Payload], Handler] = {
        RoutedCopies: inbox.routed,  # document.routed, by the view the inbox reads
        DocumentRoutedV1: inbox.routed_v1,
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
    return {kind: _announcing_when_applied_before(inbox, h) for kind, h in handlers.items()}


def _announcing_when_applied_before(inbox: Inbox, handler: Handler) -> Handler:
    """The handler, announcing again the inboxes of a message it finds applied already
    (:meth:`Inbox.applied_before`) before the consumer acknowledges it. An announcement that
    fails (the store busy) is logged and the message still acknowledged as applied: it must
    not use up a duplicate's retries or park it."""

    async def handle(envelope: Envelope, payload: Payload) -> None:
        try:
            await handler(envelope, payload)
        except AlreadyApplied:
            try:
                await inbox.applied_before(payload)
            except Exception as exc:
                log.warning(
                    "gateway.applied_before_not_announced",
                    message_type=envelope.type,
                    error=repr(exc),
                )
            raise

    return handle


def rpc_handlers(store: Store) -> RpcHandlers:
    async def document_result_steps(call: Call[gateway.ByDocument]) -> gateway.ResultSteps:
        steps = await result_steps(store, call.base, call.params.document_id)
        return gateway.ResultSteps(steps=steps)

    return RpcHandlers(Gateway).on(Gateway.result_steps, document_result_steps)
