"""The gateway reads ``document.routed`` by a view (services/gateway/routed_copies.py): for
everything the inbox uses it gives what the registered model gives, the stored body included,
and a message the model refuses for what the inbox uses is refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from services.gateway.consumers import table
from services.gateway.inbox import Inbox
from services.gateway.routed_copies import RoutedCopies
from shared.contracts import MalformedMessage, Payload, decode, encode, wrap
from shared.contracts.documents import Document, DocumentLine, ExpectedMark, Target
from shared.contracts.uploads import (
    Delivery,
    DeliverySettings,
    DocumentRouted,
    RoutedCopy,
    UploadDecided,
    UploadRequested,
)
from tools.bench.documents import order


def _gateway_views() -> dict[tuple[str, int], type[Payload]]:
    """The models the gateway's consumer reads its messages by (as Consumer builds them)."""
    handlers = table(Inbox.__new__(Inbox))
    return {(kind.TYPE, kind.VERSION): kind for kind in handlers}


def _uploaded() -> UploadRequested:
    """Documents as 1C sends them, read as the gateway reads an upload: plain lines, lines only
    the model reads (a quantity with a trailing zero, a nested extra, text to trim) and marks."""
    plain = order(3, document_id="doc-plain")
    unusual = order(2, document_id="doc-unusual")
    unusual["lines"][0]["planned_qty"] = Decimal("2.50")
    unusual["lines"][0]["extra"] = {"weight": {"gross": 1, "net": "0.9"}}
    unusual["lines"][1]["name"] = "  Товар с пробелами  "
    unusual["expected_marks"] = [{"code": "0104600000000017215abc", "contents": []}]
    return UploadRequested.model_validate(
        {
            "request_id": "req-1",
            "process": "purchase-receipt",
            "target": {"kind": "device", "value": "dev-1"},
            "documents": [plain, unusual],
        }
    )


def _routed(request: UploadRequested) -> DocumentRouted:
    """The upload's copies as routing publishes them (a document read back from the message
    routing took), one copy of each document and a second copy of the first."""
    taken = decode(encode(wrap(request, "trade")))[1]
    assert isinstance(taken, UploadRequested)
    target = Target(kind="device", value="dev-1")
    copies = [
        RoutedCopy(
            delivery_id=f"dl-{n}",
            document_id=document_id,
            version=n,
            target=target,
            settings=DeliverySettings(terminal_type="receipt", ask_for=["series"]),
        )
        for n, document_id in enumerate(("doc-plain", "doc-unusual", "doc-plain"), start=1)
    ]
    decided = UploadDecided(
        request_id=request.request_id,
        process=request.process,
        channel="internet",
        target=target,
        outcome="accepted",
        deliveries=[
            Delivery(
                delivery_id=c.delivery_id,
                document_id=c.document_id,
                channel="internet",
                target=target,
            )
            for c in copies
        ],
        requested_at=datetime.now(UTC),
    )
    return DocumentRouted(
        request_id=request.request_id,
        process=request.process,
        channel="internet",
        documents=taken.documents,
        copies=copies,
        requested_at=datetime.now(UTC),
        decided=decided,
    )


def test_the_gateway_reads_document_routed_by_its_view() -> None:
    _, read = decode(encode(wrap(_routed(_uploaded()), "trade")), _gateway_views())
    assert isinstance(read, RoutedCopies)


def test_the_view_gives_what_the_model_gives_for_all_the_inbox_uses() -> None:
    body = encode(wrap(_routed(_uploaded()), "trade"))
    _, full = decode(body)
    _, view = decode(body, _gateway_views())
    assert isinstance(full, DocumentRouted) and isinstance(view, RoutedCopies)
    assert (view.request_id, view.process, view.requested_at, view.decided) == (
        full.request_id,
        full.process,
        full.requested_at,
        full.decided,
    )
    assert view.copies == full.copies
    viewed_documents = {d.header.id: d for d in view.documents}
    for copy in full.copies:
        modelled, viewed = full.document_of(copy), viewed_documents[copy.document_id]
        assert viewed.header == modelled.header
        assert len(viewed.lines) == len(modelled.lines)
        # The body stored is the model's, to the byte (key order included).
        assert orjson.dumps(viewed.as_json()) == orjson.dumps(modelled.as_json())
    unusual = viewed_documents["doc-unusual"].as_json()
    assert unusual["lines"][0]["extra"] == {"weight": {"gross": 1, "net": "0.9"}}
    assert unusual["lines"][1]["name"] == "Товар с пробелами"
    assert [ExpectedMark.model_validate(m) for m in unusual["expected_marks"]] == [
        ExpectedMark(code="0104600000000017215abc")
    ]
    assert [DocumentLine.model_validate(line) for line in unusual["lines"]] == (
        Document.model_validate(unusual).lines
    )


def test_an_older_message_upgraded_is_read_as_the_view_reads_its_version_2() -> None:
    routed = _routed(_uploaded())
    _, read = decode(encode(wrap(routed, "trade")), _gateway_views())
    assert RoutedCopies.of(routed) == read


def _malformed(change: Any) -> bytes:
    message = orjson.loads(encode(wrap(_routed(_uploaded()), "trade")))
    change(message["payload"])
    return orjson.dumps(message)


def _line_not_an_object(payload: dict[str, Any]) -> None:
    payload["documents"][0]["lines"][1] = "line 2"


def _copy_of_no_document(payload: dict[str, Any]) -> None:
    payload["copies"][0]["document_id"] = "doc-elsewhere"


def _header_without_id(payload: dict[str, Any]) -> None:
    del payload["documents"][1]["header"]["id"]


def _marks_not_objects(payload: dict[str, Any]) -> None:
    payload["documents"][1]["expected_marks"] = ["0104600000000017215abc"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_line_not_an_object, "each item must be a JSON object"),
        (_copy_of_no_document, "copy dl-1 names no document of the message"),
        (_header_without_id, "documents.1.header.id"),
        (_marks_not_objects, "each item must be a JSON object"),
    ],
)
def test_a_malformed_routed_message_is_refused_with_its_reason(change: Any, reason: str) -> None:
    body = _malformed(change)
    with pytest.raises(MalformedMessage, match=r"bad document\.routed payload") as refused:
        decode(body, _gateway_views())
    assert reason in str(refused.value)
    with pytest.raises(MalformedMessage):
        decode(body)  # the registered model refuses it too
