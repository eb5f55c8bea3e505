"""The 1C common module (adapters/1c/ОбменТСД.bsl) cannot run here, so it is kept in step with
the gateway another way: every endpoint, method, query parameter and JSON field name it uses is
checked against the gateway's OpenAPI document, and every answer field it reads against the
guide's example answers (which tests/e2e check against the running stack)."""

from __future__ import annotations

import json
import re
from functools import cache
from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway.service import build_app
from shared.settings import Settings
from tests.support.onec_text import (
    GUIDES,
    MODULE,
    code_only,
    documented_answers,
    module_text,
)

REQUIRED = (
    "ВыгрузитьПоПинКоду",
    "ВыгрузитьНаУстройство",
    "СписокУстройств",
    "ЗагрузитьРезультаты",
    "ОтметитьЗагруженным",
)

_ROUTINE = re.compile(
    r"^(?:Функция|Процедура) (\w+)\((.*?)^(?:КонецФункции|КонецПроцедуры)", re.S | re.M
)
_CALL = re.compile(r'ВызватьСервер\(\s*"([A-Z]+)",\s*"([^"]+)"')
_QUERY = re.compile(r'Параметры\.Вставить\("([^"]+)"')
_BODY_FIELD = re.compile(r'(\w+)\.Вставить\("([a-z_]+)"')
_READ = re.compile(r'\["([a-z_]+)"\]')
_NOT_BODIES = {"Параметры", "Заголовки", "Настройки"}


@cache
def openapi() -> dict[str, Any]:
    async def ready() -> dict[str, bool]:
        return {}

    app = build_app(SimpleNamespace(settings=Settings(), readiness=ready))  # type: ignore[arg-type]
    document: dict[str, Any] = app.openapi()
    return document


def routines() -> dict[str, str]:
    return {name: body for name, body in _ROUTINE.findall(module_text())}


def operation(method: str, path: str) -> dict[str, Any]:
    paths = openapi()["paths"]
    assert path in paths, f"the module calls {path}, which the gateway does not serve"
    assert method.lower() in paths[path], f"the gateway serves no {method} {path}"
    found: dict[str, Any] = paths[path][method.lower()]
    return found


def property_names(schema: Any, seen: frozenset[str] = frozenset()) -> set[str]:
    """Every property name a schema allows, at any depth, following $ref."""
    names: set[str] = set()
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            target = openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
            names |= property_names(target, seen | {ref})
        names |= set(schema.get("properties", {}))
        for value in schema.values():
            names |= property_names(value, seen)
    elif isinstance(schema, list):
        for item in schema:
            names |= property_names(item, seen)
    return names


def test_the_module_is_utf8_with_a_bom_as_1c_exports_it() -> None:
    data = MODULE.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    data.decode("utf-8")


def test_the_module_exports_what_the_guide_promises() -> None:
    for name in REQUIRED:
        exported = rf"^(?:Функция|Процедура) {name}\([^)]*\) Экспорт"
        assert re.search(exported, module_text(), re.M), name


def test_every_call_of_the_module_is_an_operation_of_the_gateway() -> None:
    calls = _CALL.findall(module_text())
    assert len(calls) >= 6
    for method, path in calls:
        operation(method, path)


@pytest.mark.parametrize("routine", sorted(routines()))
def test_query_parameters_are_those_of_the_operations_called(routine: str) -> None:
    body = routines()[routine]
    names = set(_QUERY.findall(code_only_keeping_keys(body)))
    if not names:
        return
    allowed: set[str] = set()
    for method, path in _CALL.findall(body):
        allowed |= {p["name"] for p in operation(method, path).get("parameters", ())}
    assert names <= allowed, f"{routine}: unknown query parameters {names - allowed}"


def test_every_json_field_the_module_sends_is_in_a_request_body_it_sends_to() -> None:
    sent: set[str] = set()
    for method, path in _CALL.findall(module_text()):
        request_body = operation(method, path).get("requestBody", {})
        sent |= property_names(request_body)
    fields = {
        field for owner, field in _BODY_FIELD.findall(module_text()) if owner not in _NOT_BODIES
    }
    assert {"request_id", "target", "documents", "planned_qty"} <= fields
    assert fields <= sent, f"not in any request body: {fields - sent}"


def test_the_1c_content_type_the_module_sends_is_documented() -> None:
    content = operation("POST", "/api/v1/uploads")["requestBody"]["content"]
    for content_type in re.findall(r'"(application/[\w.+-]+)"', module_text()):
        assert content_type in content


def test_every_answer_field_the_module_reads_is_in_a_documented_answer() -> None:
    answered: set[str] = set()
    for text in documented_answers(GUIDES[0]).values():
        answered |= _keys(json.loads(text))
    read = set(_READ.findall(module_text()))
    assert {"devices", "results", "document_id", "message", "retry_after"} <= read
    assert read <= answered, f"never in a documented answer: {read - answered}"


def test_the_answers_are_read_into_maps() -> None:
    code = code_only(module_text())
    reads = re.findall(r"ПрочитатьJSON\(([^)]*)\)", code)
    assert reads and all(re.fullmatch(r"\w+, Истина", args) for args in reads)


def code_only_keeping_keys(body: str) -> str:
    """The routine without comments (its string literals kept: they are the names)."""
    return re.sub(r"//[^\n]*", "", body)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _keys(item)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()
