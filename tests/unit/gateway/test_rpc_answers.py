"""The gateway's RPC answer: ``document.result_steps`` has exactly the steps the gateway keeps,
byte for byte on the wire and as the dashboard's typed client passes it on. On the gateway's
real SQLite store, no broker: the handler is asked as the RPC server asks it."""

from __future__ import annotations

import orjson

from services.gateway import repository as repo
from services.gateway.consumers import rpc_handlers
from services.gateway.journeys import result_steps
from services.gateway.records import CompletedDocument
from shared.contracts.gateway_rpc import Gateway, ResultSteps
from shared.storage import Store


async def test_the_result_steps_answer_as_the_gateway_keeps_them(store: Store) -> None:
    handlers = rpc_handlers(store).complete()
    by_document = {"document_id": "d-1"}
    assert await handlers.answer("document.result_steps", by_document, "t1") == {"steps": []}
    await repo.keep_completed(
        store,
        CompletedDocument(
            id=repo.completed_key("t1", "d-1"),
            tenant="t1",
            state="completed",
            completed_at="2026-01-01T10:00:00+00:00",
            result={},
        ),
    )
    await repo.mark_pulled(store, "t1", "d-1", "2026-01-01T10:05:00+00:00")
    on_the_wire = await handlers.answer("document.result_steps", by_document, "t1")
    plain = {"steps": await result_steps(store, "t1", "d-1")}
    assert orjson.dumps(on_the_wire) == orjson.dumps(plain)
    assert [s["step"] for s in on_the_wire["steps"]] == ["pulled"]
    result = Gateway.result_steps.result.validate_python(on_the_wire)
    assert isinstance(result, ResultSteps)
    assert orjson.dumps(result.model_dump(mode="json")) == orjson.dumps(on_the_wire)
