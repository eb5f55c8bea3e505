"""The AMQP contract documents are exactly what the generator gives from today's models and
topology, they are well-formed, and they accept real messages and refuse bad ones."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from shared.contracts import decode, encode, registered_types, wrap
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, Target
from shared.contracts.results import DocumentCompleted, ResultRefused
from shared.contracts.uploads import DocumentRouted, UploadRequested
from shared.messaging.topology import EVENTS_EXCHANGE, WORK_QUEUES
from tools.cli.contract import (
    ADAPTER_PUBLISHES,
    ADAPTER_SUBSCRIBES,
    asyncapi_document,
    asyncapi_text,
    message_types,
    routing_keys,
    schema_files,
    topic_matches,
)

DOCS = Path(__file__).parents[2] / "docs"
REGENERATE = (
    "run `tsdx contract schemas --out docs/schemas` "
    "and `tsdx contract asyncapi --out docs/asyncapi.yaml`"
)


def test_committed_schemas_are_what_the_models_give() -> None:
    generated = schema_files()
    committed = {p.name: p.read_text(encoding="utf-8") for p in (DOCS / "schemas").glob("*.json")}
    assert sorted(committed) == sorted(generated), REGENERATE
    for name, text in generated.items():
        assert committed[name] == text, f"docs/schemas/{name} is stale: {REGENERATE}"


def test_committed_asyncapi_is_what_the_models_give() -> None:
    committed = (DOCS / "asyncapi.yaml").read_text(encoding="utf-8")
    assert committed == asyncapi_text(), f"docs/asyncapi.yaml is stale: {REGENERATE}"


def test_every_type_bound_on_the_events_exchange_is_documented() -> None:
    documented = {key for m in message_types() for key in m.routing_keys}
    for binding in (b for q in WORK_QUEUES for b in q.bindings):
        assert any(topic_matches(binding, key) for key in documented), binding
    names = {m.model.TYPE for m in message_types()}
    assert {"upload.requested", "upload.decided", "document.completed"} <= names
    assert "rpc.request" not in names  # sent to a queue directly, never on the exchange
    assert names >= ADAPTER_PUBLISHES | ADAPTER_SUBSCRIBES


def test_routing_keys_follow_the_channel_when_the_type_names_it() -> None:
    assert routing_keys(UploadRequested) == ("upload.requested",)
    assert routing_keys(DocumentRouted) == (
        "document.routed.internet",
        "document.routed.internet.device_news",
        "document.routed.lan",
    )
    assert routing_keys(ResultRefused) == ("result.refused.internet", "result.refused.lan")


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("upload.decided", "upload.decided", True),
        ("upload.decided", "upload.requested", False),
        ("document.*.internet", "document.routed.internet", True),
        ("document.*", "document.routed.internet", False),
        ("document.#", "document.routed.internet", True),
        ("document.routed.internet.#", "document.routed.internet", True),
        ("document.routed.internet.#", "document.routed.internet.device_news", True),
        ("#", "anything.at.all", True),
        ("#.lan", "document.withdrawn.lan", True),
        ("device.*", "device", False),
    ],
)
def test_topic_matching(pattern: str, key: str, matches: bool) -> None:
    assert topic_matches(pattern, key) is matches


def _order() -> Document:
    return Document(
        header=DocumentHeader(accounting_type="Заказ поставщику", id="6f1a2c3e", number="1"),
        lines=[DocumentLine(line_no=1, product_id="p-1", planned_qty=Decimal("2.5"))],
    )


def _validator(name: str) -> Any:
    return jsonschema_rs.validator_for(json.loads((DOCS / "schemas" / name).read_text()))


def test_a_real_upload_request_matches_its_schema_and_bad_ones_do_not() -> None:
    request = UploadRequested(
        request_id="r-1",
        process="purchase-receipt",
        target=Target(kind="pin", value="5546"),
        documents=[_order()],
    )
    message = json.loads(encode(wrap(request, "sklad-lenina", "corr-1")))
    validator = _validator("upload.requested.v1.json")
    assert validator.is_valid(message)
    for broken in (
        {**message, "tenant": None},  # whose documents?
        {k: v for k, v in message.items() if k != "id"},  # a repeat could not be recognised
        {**message, "version": 2},
        {**message, "type": "upload.decided"},
        {**message, "extra": 1},
        {**message, "payload": {**message["payload"], "documents": []}},
        {**message, "payload": {**message["payload"], "target": {"kind": "robot"}}},
    ):
        assert not validator.is_valid(broken), broken


def test_a_real_completed_document_matches_its_schema() -> None:
    completed = DocumentCompleted(
        document_id="6f1a2c3e",
        process="purchase-receipt",
        mode="offline",
        header=_order().header,
        lines=[],
    )
    message = json.loads(encode(wrap(completed, "sklad-lenina", "corr-2")))
    assert _validator("document.completed.v3.json").is_valid(message)
    assert _validator("envelope.json").is_valid(message)
    # Version 2 adds the marking codes of a line; version 1's schema has no room for them.
    line = {"line_no": 1, "product_id": "shoes", "quantity": "1", "marks": ["0104601234567893"]}
    marked = {**message, "payload": {**message["payload"], "lines": [line]}}
    assert _validator("document.completed.v3.json").is_valid(marked)
    v3_only = ("marks_check", "created_on_terminal")
    v2 = {k: v for k, v in marked["payload"].items() if k not in v3_only}
    assert _validator("document.completed.v2.json").is_valid(
        {**marked, "version": 2, "payload": v2}
    )
    assert not _validator("document.completed.v1.json").is_valid({**marked, "version": 1})
    # Version 3 adds a line's series, expiry, cell and the marks' check; version 2 has none.
    batch = {**line, "series": "L042", "expiry": "2027-03-31", "cell": "A-01-02"}
    check = [{"code": "0104601234567893", "status": "found", "line_no": 1}]
    payload = {**message["payload"], "lines": [batch], "marks_check": check}
    assert _validator("document.completed.v3.json").is_valid({**message, "payload": payload})
    older = {**message, "version": 2, "payload": {**v2, "lines": [batch]}}
    assert not _validator("document.completed.v2.json").is_valid(older)


def test_every_schema_is_valid_json_schema_and_names_its_type() -> None:
    known = {f"{t}.v{v}.json" for (t, v) in registered_types()}
    for path in (DOCS / "schemas").glob("*.json"):
        schema = json.loads(path.read_text())
        jsonschema_rs.validator_for(schema)  # raises on an invalid schema
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        if path.name != "envelope.json":
            assert path.name in known
            assert schema["properties"]["type"]["const"] == path.name.rsplit(".v", 1)[0]


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_document_is_well_formed() -> None:
    document = yaml.safe_load((DOCS / "asyncapi.yaml").read_text(encoding="utf-8"))
    assert document == asyncapi_document()
    assert document["asyncapi"] == "3.0.0"
    for ref in _refs(document):
        _resolve(document, ref)  # every reference leads somewhere
    id_pattern = re.compile(r"^[A-Za-z0-9_\-.]+$")
    for section in ("channels", "operations"):
        assert all(id_pattern.match(key) for key in document[section])
    for component in document["components"].values():
        assert all(id_pattern.match(key) for key in component)
    for channel in document["channels"].values():
        assert channel["bindings"]["amqp"]["exchange"]["name"] == EVENTS_EXCHANGE
    actions = {
        op["channel"]["$ref"].rsplit("/", 1)[1]: op["action"]
        for op in document["operations"].values()
    }
    assert actions["uploadRequested"] == "receive"
    assert actions["uploadDecided"] == "send"


def test_the_contract_page_names_what_adapters_use_and_its_example_is_valid() -> None:
    page = (DOCS / "amqp-contract.md").read_text(encoding="utf-8")
    for key in (*ADAPTER_PUBLISHES, *ADAPTER_SUBSCRIBES, EVENTS_EXCHANGE):
        assert f"`{key}`" in page
    for name in schema_files():
        if name.split(".v")[0] in ADAPTER_PUBLISHES | ADAPTER_SUBSCRIBES:
            assert name in page
    example = re.search(r"## Example: an upload by PIN\s+```json\n(.*?)\n```", page, re.DOTALL)
    assert example is not None
    message = json.loads(example.group(1))
    assert _validator("upload.requested.v1.json").is_valid(message)
    envelope, payload = decode(example.group(1).encode())  # and tsdx itself takes it
    assert isinstance(payload, UploadRequested)
    assert (envelope.tenant, payload.target.value) == ("sklad-lenina", "5546")
