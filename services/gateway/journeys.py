"""A document's journey as the gateway tells it: routing's steps (asked over RPC, off the
upload path) with the steps only the gateway sees: each push of the result to the base's
webhook (``pushed``, or ``push_failed`` once the attempts ran out) and the first time the
accounting side read the result (``pulled``), joined as shared/journey.py says. The HTTP side is
api/journeys.py; the dashboard asks for the gateway's steps over RPC (consumers.py)."""

from __future__ import annotations

from typing import Any

from services.gateway import repository as repo
from shared.contracts import routing_rpc as routing
from shared.contracts.routing_rpc import Routing
from shared.http import HttpCaller
from shared.journey import joined
from shared.service import Runtime
from shared.storage import Doc, Session

_PUSH_STEPS = {"delivered": ("pushed", "delivered_at"), "failed": ("push_failed", "updated_at")}


async def result_steps(db: Session, tenant: str, document_id: str) -> list[Doc]:
    """The steps of a document's result that happen at the gateway: pushes and the first pull."""
    steps: list[Doc] = []
    pushes = await repo.pushes_of(db, tenant, document_id)
    for push in pushes:
        if push.state in _PUSH_STEPS:
            step, _ = _PUSH_STEPS[push.state]
            history = push.history or ({},)
            at = push.delivered_at or history[-1].get("at") or push.created_at
            steps.append({"at": at, "step": step, "service": "gateway", "attempts": push.attempts})
    completed = await repo.completed_entry(db, tenant, document_id)
    if completed is not None and completed.pulled_at:
        steps.append({"at": completed.pulled_at, "step": "pulled", "service": "gateway"})
    return steps


async def journey(rt: Runtime, tenant: str, document_id: str) -> dict[str, Any]:
    by_document = routing.ByDocument(document_id=document_id)
    view = await Routing(HttpCaller(rt.rpc), tenant).document_journey(by_document)
    return joined(view.model_dump(mode="json"), await result_steps(rt.store, tenant, document_id))
