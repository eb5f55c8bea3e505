"""The gateway's RPC methods (queue ``gateway.rpc``), declared once in :class:`Gateway` for the
gateway that serves them (services/gateway/consumers.py) and for the dashboard that asks; how
to declare, serve and call a method is told in ``shared.contracts.rpc``.

``document.result_steps``: the steps of a document's journey that only the gateway keeps
(pushes of the result to the base's webhook, the first pull of it), for whoever shows the
journey (shared/journey.py). The base is the envelope's tenant.
"""

from __future__ import annotations

from pydantic import Field

from shared.contracts.routing_rpc import JourneyStep
from shared.contracts.rpc import Params, Result, RpcMethod, RpcService, one
from shared.messaging.topology import GATEWAY_RPC


class ByDocument(Params):
    document_id: str = Field(min_length=1, max_length=200)


class ResultSteps(Result):
    """The gateway's steps of one document, in the order they happened."""

    steps: list[JourneyStep]


# The declarations: one line a method (alike in shape with registry_rpc.py's and
# routing_rpc.py's, each another service's method).
class Gateway(RpcService, queue=GATEWAY_RPC):
    """The gateway's methods; an instance asks them for one base."""

    result_steps = RpcMethod("document.result_steps", ByDocument, one(ResultSteps))
