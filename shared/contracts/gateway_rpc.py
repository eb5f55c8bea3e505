"""The gateway's RPC methods (queue ``gateway.rpc``), declared once for the gateway that serves
them and for the dashboard that asks.

``document.result_steps``: the steps of a document's journey that only the gateway keeps
(pushes of the result to the base's webhook, the first pull of it), for whoever shows the
journey (shared/journey.py). The base is the envelope's tenant.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, TypeAdapter

from shared.contracts.rpc import Params, Record, RpcService
from shared.messaging.topology import GATEWAY_RPC


class ByDocument(Params):
    document_id: str = Field(min_length=1, max_length=200)


class ResultSteps(BaseModel):
    """The gateway's steps of one document, in the order they happened."""

    steps: list[Record]


# The declarations: one line a method (alike in shape with registry_rpc.py's and
# routing_rpc.py's, each another service's method).
GATEWAY = RpcService(GATEWAY_RPC)

result_steps = GATEWAY.method("document.result_steps", ByDocument, TypeAdapter(ResultSteps))
