"""A consumer may read a message by a view of it (``decode``'s ``views``): only the fields the
view declares are validated, and every other message is read by its registered model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import ConfigDict

from shared.contracts import MalformedMessage, Payload, decode, encode, wrap
from shared.contracts.documents import Document, DocumentHeader, Target
from shared.contracts.uploads import DocumentRouted, RoutedCopy, UploadRequested


class RequestIdOnly(Payload):
    model_config = ConfigDict(extra="ignore")

    TYPE = DocumentRouted.TYPE
    VERSION = DocumentRouted.VERSION

    request_id: str


VIEWS: dict[tuple[str, int], type[Payload]] = {
    (RequestIdOnly.TYPE, RequestIdOnly.VERSION): RequestIdOnly
}


def _routed_body(**document_changes: Any) -> bytes:
    document = Document(header=DocumentHeader(accounting_type="Заказ", id="d-1"))
    routed = DocumentRouted(
        request_id="r-1",
        process="p",
        channel="internet",
        documents=[document],
        copies=[
            RoutedCopy(
                delivery_id="c-1",
                document_id="d-1",
                version=1,
                target=Target(kind="device", value="dev-1"),
            )
        ],
        requested_at=datetime.now(UTC),
    )
    body = orjson.loads(encode(wrap(routed, "t1")))
    body["payload"]["documents"][0].update(document_changes)
    return orjson.dumps(body)


def test_a_view_validates_only_what_it_declares() -> None:
    broken = _routed_body(lines="not a list")  # its documents are never read by the view
    _, view = decode(broken, VIEWS)
    assert isinstance(view, RequestIdOnly) and view.request_id == "r-1"
    with pytest.raises(MalformedMessage, match=r"bad document\.routed payload"):
        decode(broken)  # the registered model validates everything


def test_messages_without_a_view_are_read_by_their_registered_model() -> None:
    _, routed = decode(_routed_body())
    assert isinstance(routed, DocumentRouted)
    request = UploadRequested(
        request_id="r-1",
        process="p",
        target=Target(kind="device", value="dev-1"),
        documents=[Document(header=DocumentHeader(accounting_type="Заказ", id="d-1"))],
    )
    _, read = decode(encode(wrap(request, "t1")), VIEWS)
    assert isinstance(read, UploadRequested)
