"""Routing's RPC answers: every method's declared result has exactly the fields its use case
answers, so the JSON on the wire, and what the gateway and the dashboard pass on from the typed
client, is byte for byte the use case's answer. On routing's real SQLite store, no broker: the
handlers are asked as the RPC server asks them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.routing import journey
from services.routing import repository as repo
from services.routing.catalogue import Catalogue
from services.routing.consumers import rpc_handlers
from services.routing.journey import Journal
from services.routing.processes import default_processes
from shared.contracts import wrap
from shared.contracts.carried import CarriedDocument
from shared.contracts.documents import DocumentHeader, Target
from shared.contracts.results import DocumentLoaded
from shared.contracts.routing_rpc import Routing
from shared.messaging.rpc import RpcHandlers
from shared.storage import Store
from tests.support.stores import service_store

DOCUMENT = CarriedDocument(
    header=DocumentHeader(accounting_type="Заказ клиента", id="d-1", number="17")
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with service_store(tmp_path, "routing", repo.COLLECTIONS) as s:
        yield s


@pytest.fixture
async def catalogue(store: Store) -> Catalogue:
    c = Catalogue(store, default_processes())
    await c.install_shipped()
    return c


@pytest.fixture
def handlers(catalogue: Catalogue, store: Store) -> RpcHandlers:
    return rpc_handlers(catalogue, store).complete()


def same_json(on_the_wire: Any, plain: Any, name: str) -> None:
    """The use case's answer byte for byte (names, order, null and absent alike), and the
    typed client's result passes the same JSON on (as FastAPI renders it)."""
    assert orjson.dumps(on_the_wire) == orjson.dumps(plain), name
    result = Routing.methods[name].result
    again = result.dump_python(result.validate_python(on_the_wire), mode="json", by_alias=True)
    assert orjson.dumps(again) == orjson.dumps(on_the_wire), name


async def test_the_process_methods_answer_as_the_catalogue(
    handlers: RpcHandlers, catalogue: Catalogue
) -> None:
    async def ask(name: str, params: dict[str, Any], plain: Any) -> Any:
        answer = await handlers.answer(name, params, "t1")
        same_json(answer, await plain, name)
        return answer

    await ask("process.list", {}, catalogue.list("t1"))
    await ask("process.get", {"id": "picking"}, catalogue.get("t1", "picking"))
    exported = await ask("process.export", {"format": "json"}, catalogue.export("t1", "json"))
    # Writes: the same change asked twice answers alike (the second changes nothing).
    picking = (await catalogue.get("t1", "picking"))["process"]
    put = {"process": {**picking, "id": "mine", "name": "Моя"}}
    await ask("process.put", put, catalogue.put("t1", put["process"]))
    await ask("process.disable", {"id": "mine"}, catalogue.set_enabled("t1", "mine", False))
    await ask("process.enable", {"id": "mine"}, catalogue.set_enabled("t1", "mine", True))
    await ask(
        "process.import", {"text": exported["text"]}, catalogue.import_file("t1", exported["text"])
    )
    deleted = await handlers.answer("process.delete", {"id": "mine"}, "t1")
    same_json(deleted, {"id": "mine", "deleted": True}, "process.delete")


async def test_the_document_methods_answer_as_the_journey(
    handlers: RpcHandlers, store: Store
) -> None:
    journal = Journal(store, wrap(DocumentLoaded(document_id="d-1"), "t1"))
    journal.requested(DOCUMENT, "internet", {"kind": "pin", "value": "5546"})
    device = {"id": "dev-1", "pin": "5546", "name": "EDA50"}
    journal.add("d-1", "routed", service="routing", delivery_id="c-1", device=device)
    await journal.write()
    key = repo.document_key("t1", "d-1")
    await repo.put_document(
        store,
        repo.DocumentRecord(
            id=key,
            tenant="t1",
            document_id="d-1",
            process="picking",
            process_snapshot=None,
            request_id="r-1",
            channel="internet",
            target=Target(kind="pin", value="5546"),
            version=1,
            state="queued",
            uploaded_at="2026-01-01T00:00:00+00:00",
        ),
    )
    await repo.add_copy(
        store,
        repo.CopyRecord(
            id="c-1",
            tenant="t1",
            document_key=key,
            request_id="r-1",
            channel="internet",
            target=Target(kind="device", value="dev-1"),
            copy="shared",
            mode="online",
            version=1,
            state="routed",
            routed_at="2026-01-01",
        ),
    )
    by_document = {"document_id": "d-1"}
    document = await handlers.answer("document.get", by_document, "t1")
    same_json(document, await journey.document_view(store, "t1", "d-1"), "document.get")
    assert document["copies"][0]["copy"] == "shared"
    view = await handlers.answer("document.journey", by_document, "t1")
    same_json(view, await journey.journey_view(store, "t1", "d-1"), "document.journey")
    found = await handlers.answer("document.find", {"query": "5546"}, None)
    same_json(found, {"documents": await journey.find(store, None, "5546")}, "document.find")
    assert [d["document_id"] for d in found["documents"]] == ["d-1"]
