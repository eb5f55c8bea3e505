"""What routing takes from the broker: its RPC methods (queue ``routing.rpc``: business
processes and document states) and the messages of its work queue, each to one use case.

Each declared method of ``shared.contracts.routing_rpc`` to the :class:`Catalogue` or master
records call that answers it. The scope is the envelope's tenant; an envelope without a tenant
means the defaults (``"*"``), which only the administrator's side of the gateway sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.routing import journey
from services.routing.catalogue import DEFAULTS, Catalogue
from services.routing.directory_replica import DirectoryReplica
from services.routing.results import ResultKeeper
from services.routing.upload_decisions import UploadDecider
from shared.contracts import routing_rpc as routing
from shared.contracts.directory import DeviceChanged, DeviceChangedV1, PeopleChanged
from shared.contracts.results import (
    DeliveriesProgressed,
    DeliveryProgressed,
    DeliveryProgressedV1,
    DocumentLoaded,
    ResultSubmitted,
)
from shared.contracts.routing_rpc import Routing
from shared.contracts.rpc import Call
from shared.contracts.uploads import UploadRequested
from shared.errors import Refusal
from shared.messaging.consumer import Handler
from shared.messaging.rpc import RpcHandlers
from shared.storage import Store


def _scope(call: Call[Any]) -> str:
    return call.tenant or DEFAULTS


def rpc_handlers(catalogue: Catalogue, store: Store) -> RpcHandlers:
    async def journey_of(call: Call[routing.ByDocument]) -> dict[str, Any]:
        view = await journey.journey_view(store, call.base, call.params.document_id)
        if view is None:  # another base's document is just as unknown here
            raise Refusal("not_found", 404)
        return view

    async def find(call: Call[routing.Search]) -> dict[str, Any]:
        # Without a tenant (the operators' side), every base is searched.
        query = call.params.query.strip()
        return {"documents": await journey.find(store, call.tenant or None, query)}

    def switch(enabled: bool) -> Callable[[Call[routing.ById]], Awaitable[dict[str, Any]]]:
        async def handler(call: Call[routing.ById]) -> dict[str, Any]:
            return await catalogue.set_enabled(_scope(call), call.params.id, enabled)

        return handler

    return (
        RpcHandlers(Routing)
        .on(Routing.list_processes, lambda call: catalogue.list(_scope(call)))
        .on(Routing.get_process, lambda call: catalogue.get(_scope(call), call.params.id))
        .on(Routing.put_process, lambda call: catalogue.put(_scope(call), call.params.process))
        .on(
            Routing.import_processes,
            lambda call: catalogue.import_file(_scope(call), call.params.text),
        )
        .on(
            Routing.export_processes,
            lambda call: catalogue.export(_scope(call), call.params.format),
        )
        .on(Routing.enable_process, switch(True))
        .on(Routing.disable_process, switch(False))
        .on(Routing.delete_process, lambda call: catalogue.delete(_scope(call), call.params.id))
        .on(
            Routing.get_document,
            lambda call: journey.document_view(store, call.base, call.params.document_id),
        )
        .on(Routing.document_journey, journey_of)
        .on(Routing.find_documents, find)
    )


def message_handlers(
    uploads: UploadDecider, results: ResultKeeper, replica: DirectoryReplica
) -> dict[type, Handler]:
    """Each message routing takes from its work queue, to the one use case that handles it."""
    return {
        UploadRequested: uploads.handle,
        ResultSubmitted: results.submitted,
        DeliveryProgressed: results.progressed,
        DeliveryProgressedV1: results.progressed_v1,
        DeliveriesProgressed: results.progressed_together,
        DocumentLoaded: results.loaded,
        DeviceChanged: replica.device_changed,
        DeviceChangedV1: replica.device_changed_v1,
        PeopleChanged: replica.people_changed,
    }
