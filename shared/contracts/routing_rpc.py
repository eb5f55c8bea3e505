"""Routing's RPC methods (queue ``routing.rpc``: business processes and document states),
declared once for routing that serves them and for the gateway and dashboard that ask.

The scope is the envelope's tenant; an envelope without a tenant means the defaults, which
only the administrator's side of the gateway sends.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from shared.contracts.rpc import RECORD, RECORD_OR_NONE, RECORDS, NoParams, Params, RpcService
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


# The declarations: one line a method (alike in shape with registry_rpc.py's, each another
# service's method).
ROUTING = RpcService(ROUTING_RPC)

list_processes = ROUTING.method("process.list", NoParams, RECORDS)
get_process = ROUTING.method("process.get", ById, RECORD)
put_process = ROUTING.method("process.put", PutProcess, RECORD)
import_processes = ROUTING.method("process.import", ImportFile, RECORD)
export_processes = ROUTING.method("process.export", Export, RECORD)
enable_process = ROUTING.method("process.enable", ById, RECORD)
disable_process = ROUTING.method("process.disable", ById, RECORD)
delete_process = ROUTING.method("process.delete", ById, RECORD)
get_document = ROUTING.method("document.get", ByDocument, RECORD_OR_NONE)
document_journey = ROUTING.method("document.journey", ByDocument, RECORD)
find_documents = ROUTING.method("document.find", Search, RECORD)
