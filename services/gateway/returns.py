"""Documents taken back after they were accepted (``document.returned``, from routing): the
accounting side learns it where it learns results. A returned document is listed among the
base's results with the state ``returned``, its code and its message in Russian and English,
the document's header and no lines; it is pulled and confirmed like a result
(``POST /results/{id}/loaded``), and pushed to the base's webhook (event ``document.returned``)
when the copy was an online one."""

from __future__ import annotations

from datetime import datetime

from services.gateway.records import CompletedDocument
from shared.contracts.uploads import DocumentReturned
from shared.i18n import render

STATE = "returned"
EVENT = "document.returned"


def returned_entry(
    tenant: str, key: str, at: datetime, returned: DocumentReturned
) -> CompletedDocument:
    """The entry of the base's results that says the document came back, and why."""
    return CompletedDocument(
        id=key,
        tenant=tenant,
        state=STATE,
        completed_at=at.isoformat(),
        result={
            "document_id": returned.document_id,
            "process": returned.process,
            "result_type": "",
            "mode": returned.mode,
            # As a result is read (header, lines), so that code reading results reads this too.
            "header": returned.header.model_dump(mode="json") if returned.header else None,
            "lines": [],
            "returned": {
                "code": returned.code,
                "params": returned.params,
                "message": {
                    language: render(returned.code, language, returned.params)
                    for language in ("ru", "en")
                },
                "device_id": returned.device_id,
                "request_id": returned.request_id,
            },
        },
    )
