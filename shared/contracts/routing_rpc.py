"""Routing's RPC methods (queue ``routing.rpc``: business processes and document states),
declared once in :class:`Routing` for routing that serves them (services/routing/consumers.py)
and for the gateway and dashboard that ask (``Routing(rpc, tenant).list_processes(NoParams())``);
how to declare, serve and call a method is told in ``shared.contracts.rpc``. Each result is a
model of this module with exactly the fields routing answers.

The scope is the envelope's tenant; an envelope without a tenant means the defaults, which
only the administrator's side of the gateway sends.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from shared.contracts.documents import Target
from shared.contracts.rpc import NoParams, Params, Result, RpcMethod, RpcService, many, one
from shared.messaging.topology import ROUTING_RPC

# A business process's id: lower-case words joined by hyphens.
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
FileFormat = Literal["yaml", "json"]


class ById(Params):
    id: Slug


class PutProcess(Params):
    process: dict[str, Any]


class ImportFile(Params):
    model_config = ConfigDict(extra="forbid")  # the file as given: whitespace is YAML's

    text: str  # its size is checked by the loader, with the file's own error code


class Export(Params):
    format: FileFormat = "yaml"


class ByDocument(Params):
    document_id: str = Field(min_length=1, max_length=200)


class Search(Params):
    query: str = Field(min_length=1, max_length=200)


# Results -------------------------------------------------------------------------------------


class ProcessView(Result):
    """A business process as a scope sees it: its own, or the default it inherits."""

    id: str
    name: str
    enabled: bool
    scope: Literal["default", "tenant"]
    shipped: bool  # a default shipped with tsdx
    origin: str  # who wrote it: shipped, file, operator
    process: dict[str, Any]  # the definition as a process file holds it


class ProcessesExported(Result):
    format: FileFormat
    count: int
    text: str


class ProcessesImported(Result):
    imported: list[str]
    count: int


class ProcessDeleted(Result):
    id: str
    deleted: bool


class CopyView(Result):
    """One copy (delivery) of a document."""

    # ``copy`` is a name of pydantic's own: the field is ``copy_``, named ``copy`` in JSON.
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    delivery_id: str
    version: int
    channel: str
    target: Target
    copy_: str = Field(alias="copy")  # shared, collective or own
    mode: str  # online or offline
    state: str
    withdrawn_reason: str | None


class DocumentView(Result):
    """A document's master record as operators see it: state, version and copies."""

    document_id: str
    process: str
    channel: str | None
    target: Target | None
    version: int
    state: str
    request_id: str | None
    uploaded_at: str | None
    completed_at: str | None
    copies: list[CopyView]


# A step of a journey: when, which step, which service, and what that kind of step tells
# (shared/journey.py lists them); each kind carries its own fields.
JourneyStep = dict[str, Any]


class DocumentFound(Result):
    """A document as a search lists it: where it stands, without its timeline."""

    document_id: str
    tenant: str
    number: str
    accounting_type: str
    process: str | None  # None until an upload of it is accepted
    version: int | None
    state: str
    # A model's fields follow its parents', so the timeline comes last, as in the answer.


class JourneyView(DocumentFound):
    """A document's state and its timeline (routing's steps; the gateway adds its own)."""

    timeline: list[JourneyStep]


class Found(Result):
    documents: list[DocumentFound]


# The declarations: one line a method (alike in shape with registry_rpc.py's, each another
# service's method).
class Routing(RpcService, queue=ROUTING_RPC):
    """Routing's methods; an instance asks them for one base (or, with none, the defaults)."""

    list_processes = RpcMethod("process.list", NoParams, many(ProcessView))
    get_process = RpcMethod("process.get", ById, one(ProcessView))
    put_process = RpcMethod("process.put", PutProcess, one(ProcessView))
    import_processes = RpcMethod("process.import", ImportFile, one(ProcessesImported))
    export_processes = RpcMethod("process.export", Export, one(ProcessesExported))
    enable_process = RpcMethod("process.enable", ById, one(ProcessView))
    disable_process = RpcMethod("process.disable", ById, one(ProcessView))
    delete_process = RpcMethod("process.delete", ById, one(ProcessDeleted))
    get_document = RpcMethod("document.get", ByDocument, one(DocumentView))
    document_journey = RpcMethod("document.journey", ByDocument, one(JourneyView))
    find_documents = RpcMethod("document.find", Search, one(Found))
