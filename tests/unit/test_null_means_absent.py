"""``null`` in an optional field of any request model is "not given" (1C's ``Неопределено``):
the default applies. A required field still refuses it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.dashboard.api.board import ReplayRequest
from services.gateway.api.admin import GroupRename, NewGroup
from services.gateway.api.terminal import PairRequest
from services.gateway.api.terminal import ResultRequest as TerminalResult
from services.gateway.api.webhooks import WebhookSettings
from services.lan_writer.api.admin import ReassignRequest, ReleaseRequest
from services.lan_writer.api.terminal import ResultRequest as LanResult
from services.lan_writer.auth import LoginRequest
from services.routing.processes import BusinessProcess, FieldMapping, MappingRules, OnLoad
from shared.contracts.absent import null_means_absent_in
from shared.contracts.documents import Document, DocumentHeader, DocumentLine, FactLine, Target
from shared.contracts.registry_rpc import (
    DeviceChanges,
    NewTenant,
    NewUser,
    Replacement,
    UserChanges,
)
from shared.contracts.uploads import UploadRequested

HEADER = {"accounting_type": "Заказ поставщику", "id": "8f14e45f"}
LINE = {"line_no": 1, "product_id": "prod-1"}

# Every model a request body is read into, with its smallest valid body.
REQUEST_MODELS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (UploadRequested, {"request_id": "r", "process": "p", "target": {"kind": "pin", "value": "1"},
                       "documents": [{"header": HEADER}]}),
    (Target, {"kind": "device"}),
    (Document, {"header": HEADER}),
    (DocumentHeader, HEADER),
    (DocumentLine, LINE),
    (FactLine, {"product_id": "prod-1", "quantity": "1"}),
    (TerminalResult, {"result_id": "r", "final": True}),
    (LanResult, {"result_id": "r", "final": True}),
    (PairRequest, {"connection_code": "c", "hardware_id": "h"}),
    (WebhookSettings, {"url": "https://1c.example.ru/hs"}),
    (NewTenant, {"name": "Склад"}),
    (DeviceChanges, {"name": "EDA50", "mode": "online"}),
    (Replacement, {"new_device": "d"}),
    (NewUser, {"login": "ivanov"}),
    (UserChanges, {"name": "Иванов"}),
    (NewGroup, {"group": "Кладовщики"}),
    (GroupRename, {"name": "Кладовщики"}),
    (LoginRequest, {"tenant": "trade", "login": "ivanov", "password": "x"}),
    (ReleaseRequest, {"reason": "разряжен"}),
    (ReassignRequest, {"target": {"kind": "user", "value": "petrov"}}),
    (ReplayRequest, {"queue": "routing.work"}),
    (BusinessProcess, {"id": "p", "name": "П", "source_type": "А", "terminal_type": "Б",
                       "result_type": "В"}),
    (OnLoad, {}),
    (MappingRules, {}),
    (FieldMapping, {"source": "number", "target": "comment", "default": "x"}),
]  # fmt: skip

OPTIONAL_FIELDS = [
    pytest.param(model, minimal, name, id=f"{model.__name__}.{name}")
    for model, minimal in REQUEST_MODELS
    for name, field in model.model_fields.items()
    if not field.is_required()
]


@pytest.mark.parametrize(("model", "minimal", "name"), OPTIONAL_FIELDS)
def test_null_in_an_optional_field_is_the_field_left_out(
    model: type[BaseModel], minimal: dict[str, Any], name: str
) -> None:
    given_null = model.model_validate({**minimal, name: None}).model_dump()
    left_out = model.model_validate({k: v for k, v in minimal.items() if k != name}).model_dump()
    assert given_null[name] == left_out[name]


def test_null_deep_inside_an_upload_is_absent_at_every_level() -> None:
    body: dict[str, Any] = {
        "request_id": "r",
        "process": "p",
        "channel": None,
        "recall": None,
        "target": {"kind": "device", "value": None},
        "documents": [
            {
                "header": {**HEADER, "number": None, "comment": None, "extra": None},
                "lines": [{**LINE, "article": None, "barcodes": None, "planned_qty": None}],
            }
        ],
    }
    request = UploadRequested.model_validate(body)
    assert request.channel == "internet" and request.recall is False
    assert request.target.value is None
    assert request.documents[0].header.comment == "" and request.documents[0].header.extra == {}
    line = request.documents[0].lines[0]  # carried as its checked JSON
    assert (line["article"], line["barcodes"], line["planned_qty"]) == ("", [], "0")


def test_the_rule_covers_the_fields_it_should_and_only_those() -> None:
    # `comment` may be left out and cannot be None: null is dropped. `value` holds None itself.
    assert {"comment", "extra", "number"} <= null_means_absent_in(DocumentHeader)
    assert "value" not in null_means_absent_in(Target)
    assert "accounting_type" not in null_means_absent_in(DocumentHeader)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (DocumentHeader, {**HEADER, "id": None}),
        (DocumentLine, {**LINE, "product_id": None}),
        (UploadRequested, {"request_id": None, "process": "p", "target": {"kind": "everyone"},
                           "documents": [{"header": HEADER}]}),
    ],
)  # fmt: skip
def test_null_in_a_required_field_is_still_refused(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(body)
