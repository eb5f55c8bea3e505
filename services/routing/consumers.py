"""What routing takes from the broker: its RPC methods (queue ``routing.rpc``: business
processes and document states) and the messages of its work queue, each to one use case.

Thin adapters from request parameters to :class:`Catalogue` and the master records. The
scope is the envelope's tenant; an envelope without a tenant means the defaults (``"*"``),
which only the administrator's side of the gateway sends.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from services.routing import journey
from services.routing.catalogue import DEFAULTS, Catalogue
from services.routing.directory_replica import DirectoryReplica
from services.routing.processes import Slug
from services.routing.results import ResultKeeper
from services.routing.uploads import UploadRouter
from shared.contracts import Envelope
from shared.contracts.directory import DeviceChanged, DeviceChangedV1, PeopleChanged
from shared.contracts.results import DeliveryProgressed, DocumentLoaded, ResultSubmitted
from shared.contracts.uploads import UploadRequested
from shared.errors import Refusal
from shared.messaging.consumer import Handler
from shared.messaging.rpc import Method, Params, parse_params
from shared.storage import Store


class NoParams(Params):
    pass


class ById(Params):
    id: Slug


class PutProcess(Params):
    process: dict[str, Any]


class ImportFile(Params):
    model_config = ConfigDict(extra="forbid")  # the file as given: whitespace is YAML's

    text: str  # its size is checked by the loader, with the file's own error code


class Export(Params):
    format: Literal["yaml", "json"] = "yaml"


class ByDocument(Params):
    document_id: str = Field(min_length=1, max_length=200)


class Search(Params):
    query: str = Field(min_length=1, max_length=200)


def _scope(envelope: Envelope) -> str:
    return envelope.tenant or DEFAULTS


def methods(catalogue: Catalogue, store: Store) -> dict[str, Method]:
    async def list_(env: Envelope, params: dict[str, Any]) -> Any:
        parse_params(NoParams, params)
        return await catalogue.list(_scope(env))

    async def get(env: Envelope, params: dict[str, Any]) -> Any:
        return await catalogue.get(_scope(env), parse_params(ById, params).id)

    async def put(env: Envelope, params: dict[str, Any]) -> Any:
        return await catalogue.put(_scope(env), parse_params(PutProcess, params).process)

    async def import_(env: Envelope, params: dict[str, Any]) -> Any:
        return await catalogue.import_file(_scope(env), parse_params(ImportFile, params).text)

    async def export(env: Envelope, params: dict[str, Any]) -> Any:
        return await catalogue.export(_scope(env), parse_params(Export, params).format)

    async def enable(env: Envelope, params: dict[str, Any]) -> Any:
        return await catalogue.set_enabled(_scope(env), parse_params(ById, params).id, True)

    async def disable(env: Envelope, params: dict[str, Any]) -> Any:
        return await catalogue.set_enabled(_scope(env), parse_params(ById, params).id, False)

    async def delete(env: Envelope, params: dict[str, Any]) -> Any:
        return await catalogue.delete(_scope(env), parse_params(ById, params).id)

    async def document(env: Envelope, params: dict[str, Any]) -> Any:
        if not env.tenant:
            raise Refusal("validation_error", 422, details="tenant: required")
        document_id = parse_params(ByDocument, params).document_id
        return await journey.document_view(store, env.tenant, document_id)

    async def document_journey(env: Envelope, params: dict[str, Any]) -> Any:
        if not env.tenant:
            raise Refusal("validation_error", 422, details="tenant: required")
        document_id = parse_params(ByDocument, params).document_id
        view = await journey.journey_view(store, env.tenant, document_id)
        if view is None:  # another base's document is just as unknown here
            raise Refusal("not_found", 404)
        return view

    async def document_find(env: Envelope, params: dict[str, Any]) -> Any:
        # Without a tenant (the operators' side), every base is searched.
        query = parse_params(Search, params).query.strip()
        return {"documents": await journey.find(store, env.tenant or None, query)}

    return {
        "process.list": list_,
        "process.get": get,
        "process.put": put,
        "process.import": import_,
        "process.export": export,
        "process.enable": enable,
        "process.disable": disable,
        "process.delete": delete,
        "document.get": document,
        "document.journey": document_journey,
        "document.find": document_find,
    }


def message_handlers(
    uploads: UploadRouter, results: ResultKeeper, replica: DirectoryReplica
) -> dict[type, Handler]:
    """Each message routing takes from its work queue, to the one use case that handles it."""
    return {
        UploadRequested: uploads.handle,
        ResultSubmitted: results.submitted,
        DeliveryProgressed: results.progressed,
        DocumentLoaded: results.loaded,
        DeviceChanged: replica.device_changed,
        DeviceChangedV1: replica.device_changed_v1,
        PeopleChanged: replica.people_changed,
    }
