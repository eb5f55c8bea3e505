"""The gateway reads ``document.routed`` by a view (services/gateway/routed_copies.py): for
everything the inbox uses it gives what the registered model gives, the stored body included,
and a message the model refuses for what the inbox uses is refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from services.gateway import routed_copies
from services.gateway.consumers import table
from services.gateway.inbox import Inbox
from services.gateway.routed_copies import RoutedCopies
from shared.contracts import MalformedMessage, Payload, decode, encode, wrap
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import (
    EXPECTED_MARKS_MAX,
    Document,
    DocumentLine,
    ExpectedMark,
    Target,
)
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


def test_the_view_has_the_model_s_fields() -> None:
    # The view ignores what it does not name: a field added to the model and not to the view
    # would be dropped without a word.
    assert set(RoutedCopies.model_fields) == set(DocumentRouted.model_fields)
    assert set(routed_copies.RoutedDocument.model_fields) == set(CarriedDocument.model_fields)


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


def _an_empty_line(payload: dict[str, Any]) -> None:
    payload["documents"][0]["lines"][0] = {}


def _a_mark_not_a_code(payload: dict[str, Any]) -> None:
    payload["documents"][1]["expected_marks"] = [{"code": "не код"}]


def _too_many_marks(payload: dict[str, Any]) -> None:
    mark = {"code": "0104600000000017215abc", "contents": []}
    payload["documents"][1]["expected_marks"] = [mark] * (EXPECTED_MARKS_MAX + 1)


def test_more_marks_than_the_model_allows_are_refused() -> None:
    # By the view only: the model's own refusal reads the 100,001 marks as long again.
    with pytest.raises(
        MalformedMessage, match=r"documents\.1\.expected_marks: List should have at most"
    ):
        decode(_malformed(_too_many_marks), _gateway_views())


def _no_channel(payload: dict[str, Any]) -> None:
    del payload["channel"]


def _a_quantity_with_an_exponent(payload: dict[str, Any]) -> None:
    payload["documents"][0]["lines"][0]["planned_qty"] = 1e22  # written 1e+22


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_line_not_an_object, "documents.0.lines.1: Input should be a valid dictionary"),
        (_copy_of_no_document, "copy dl-1 names no document of the message"),
        (_header_without_id, "documents.1.header.id"),
        (_marks_not_objects, "documents.1.expected_marks.0: Input should be a valid dictionary"),
        (_an_empty_line, "documents.0.lines.0.line_no: Field required"),
        (_a_mark_not_a_code, "documents.1.expected_marks.0.code: String should match pattern"),
        (_no_channel, "channel: Field required"),
        (_a_quantity_with_an_exponent, "documents.0.lines.0.planned_qty"),
    ],
)
def test_a_malformed_routed_message_is_refused_with_its_reason(change: Any, reason: str) -> None:
    body = _malformed(change)
    with pytest.raises(MalformedMessage, match=r"bad document\.routed payload") as refused:
        decode(body, _gateway_views())
    assert reason in str(refused.value)
    with pytest.raises(MalformedMessage):
        decode(body)  # the registered model refuses it too


def _stored_by_view_and_model(body: bytes) -> list[tuple[bytes, bytes]]:
    """Each copy's body as the view gives it and as the registered model gives it, as the
    stores write them (orjson, as SQLite's store does: a value it cannot write raises)."""
    _, full = decode(body)
    _, view = decode(body, _gateway_views())
    assert isinstance(full, DocumentRouted) and isinstance(view, RoutedCopies)
    viewed = {d.header.id: d for d in view.documents}
    return [
        (orjson.dumps(viewed[c.document_id].as_json()), orjson.dumps(full.document_of(c).as_json()))
        for c in full.copies
    ]


def _fraction_in_a_quantity(payload: dict[str, Any]) -> None:
    payload["documents"][0]["lines"][0]["planned_qty"] = 1.5


def _fraction_in_extra(payload: dict[str, Any]) -> None:
    payload["documents"][1]["lines"][1]["extra"] = {"weight": 0.25}


def _fraction_in_a_mark(payload: dict[str, Any]) -> None:
    payload["documents"][1]["expected_marks"][0]["contents"] = [0.5]


def _line_of_an_older_routing(payload: dict[str, Any]) -> None:
    # A line field added later (``cell``) and a mark's optional ``contents`` left out.
    for line in payload["documents"][0]["lines"]:
        del line["cell"]
    del payload["documents"][1]["expected_marks"][0]["contents"]


def _lines_and_marks_left_out(payload: dict[str, Any]) -> None:
    del payload["documents"][0]["lines"]
    del payload["documents"][1]["expected_marks"]


@pytest.mark.parametrize(
    "change",
    [
        _fraction_in_a_quantity,
        _fraction_in_extra,
        _line_of_an_older_routing,
        _lines_and_marks_left_out,
    ],
)
def test_a_document_not_as_routing_writes_it_is_stored_as_the_model_gives_it(
    change: Any,
) -> None:
    for viewed, modelled in _stored_by_view_and_model(_malformed(change)):
        assert viewed == modelled


def test_a_fraction_is_stored_as_the_model_writes_it() -> None:
    body = _malformed(_fraction_in_a_quantity)
    _, view = decode(body, _gateway_views())
    assert isinstance(view, RoutedCopies)
    assert view.documents[0].as_json()["lines"][0]["planned_qty"] == "1.5"


def test_a_fraction_where_the_model_takes_no_number_is_refused() -> None:
    body = _malformed(_fraction_in_a_mark)
    with pytest.raises(MalformedMessage, match=r"documents\.1\.expected_marks\.0\.contents\.0"):
        decode(body, _gateway_views())
    with pytest.raises(MalformedMessage):
        decode(body)


class _NoModel:
    @staticmethod
    def model_validate(data: Any) -> Any:
        raise AssertionError("routing's own document went through the model")


def test_routing_s_own_documents_are_taken_without_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routed_copies, "CarriedDocument", _NoModel)
    _, view = decode(encode(wrap(_routed(_uploaded()), "trade")), _gateway_views())
    assert isinstance(view, RoutedCopies) and len(view.documents) == 2
