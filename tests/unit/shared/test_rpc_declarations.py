"""RPC methods declared once: the server's handlers and the callers' parameters both come from
the declaration, and wrong parameters are the same refusal on either side of the wire."""

from __future__ import annotations

import pytest
from pydantic import Field

from shared.contracts import gateway_rpc, registry_rpc, routing_rpc
from shared.contracts.rpc import RECORD, Call, Params, Record, RpcService
from shared.errors import Refusal
from shared.messaging.rpc import RpcHandlers
from shared.messaging.topology import GATEWAY_RPC, REGISTRY_RPC, ROUTING_RPC


class Rename(Params):
    device_id: str = Field(min_length=1, max_length=10)
    name: str = Field(min_length=1)


async def test_a_handler_gets_typed_parameters_and_the_envelopes_tenant() -> None:
    service = RpcService(REGISTRY_RPC)
    rename = service.method("device.rename", Rename, RECORD)
    seen: list[Call[Rename]] = []

    async def handle(call: Call[Rename]) -> Record:
        seen.append(call)
        return {"base": call.base, "name": call.params.name}

    handlers = RpcHandlers(service).on(rename, handle).complete()
    answer = await handlers.answer("device.rename", {"device_id": " d1 ", "name": "A"}, "t1")

    assert answer == {"base": "t1", "name": "A"}
    assert seen[0].params == Rename(device_id="d1", name="A")  # trimmed on the way in


async def test_wrong_parameters_are_refused_by_name_before_the_handler_runs() -> None:
    service = RpcService(REGISTRY_RPC)
    rename = service.method("device.rename", Rename, RECORD)
    called: list[object] = []

    async def handle(call: Call[Rename]) -> Record:
        called.append(call)
        return {}

    handlers = RpcHandlers(service).on(rename, handle)
    with pytest.raises(Refusal) as refused:
        await handlers.answer("device.rename", {"device_id": "", "nick": "x"}, "t1")

    assert (refused.value.code, refused.value.status) == ("validation_error", 422)
    details = refused.value.params["details"]
    assert "device_id: String should have at least 1 character" in details
    assert "nick: Extra inputs are not permitted" in details
    assert "name: Field required" in details
    assert called == []


async def test_a_tenant_scoped_handler_refuses_a_call_without_a_tenant() -> None:
    service = RpcService(REGISTRY_RPC)
    rename = service.method("device.rename", Rename, RECORD)

    async def handle(call: Call[Rename]) -> Record:
        return {"base": call.base}

    handlers = RpcHandlers(service).on(rename, handle)
    with pytest.raises(Refusal) as refused:
        await handlers.answer("device.rename", {"device_id": "d1", "name": "A"}, None)
    assert refused.value.params == {"details": "tenant: required"}


def test_a_caller_building_wrong_parameters_gets_the_servers_refusal() -> None:
    with pytest.raises(Refusal) as on_the_caller:
        Rename(device_id="x" * 11, name="A")
    on_the_server = RpcService(REGISTRY_RPC).method("r", Rename, RECORD)
    with pytest.raises(Refusal) as off_the_wire:
        on_the_server.read_params({"device_id": "x" * 11, "name": "A"})
    assert on_the_caller.value.code == off_the_wire.value.code == "validation_error"
    assert on_the_caller.value.params == off_the_wire.value.params


def test_every_declared_method_must_have_a_handler_and_only_once() -> None:
    service = RpcService(REGISTRY_RPC)
    rename = service.method("device.rename", Rename, RECORD)
    service.method("device.forget", Rename, RECORD)

    async def handle(call: Call[Rename]) -> Record:
        return {}

    handlers = RpcHandlers(service).on(rename, handle)
    with pytest.raises(ValueError, match=r"no handler for device\.forget"):
        handlers.complete()
    with pytest.raises(ValueError, match="has a handler already"):
        handlers.on(rename, handle)
    with pytest.raises(ValueError, match="declared twice"):
        service.method("device.rename", Rename, RECORD)
    elsewhere = RpcService(ROUTING_RPC).method("device.rename", Rename, RECORD)
    with pytest.raises(ValueError, match=r"not a method of registry\.rpc"):
        RpcHandlers(service).on(elsewhere, handle)


def test_the_services_declare_their_methods_on_their_own_queues() -> None:
    registry_names = [m.name for m in registry_rpc.REGISTRY]
    routing_names = [m.name for m in routing_rpc.ROUTING]
    assert {m.queue for m in registry_rpc.REGISTRY} == {REGISTRY_RPC}
    assert {m.queue for m in routing_rpc.ROUTING} == {ROUTING_RPC}
    assert "device.block" in registry_names and "user.update" in registry_names
    assert "process.list" in routing_names and "document.journey" in routing_names
    assert {m.queue for m in gateway_rpc.GATEWAY} == {GATEWAY_RPC}
    assert [m.name for m in gateway_rpc.GATEWAY] == ["document.result_steps"]


def test_an_operators_body_is_the_registrys_parameters() -> None:
    # The admin API reads its bodies into these models: one rule for a field on both sides.
    changes = registry_rpc.UserChanges(barcode=None)
    update = registry_rpc.UpdateUser(
        login="ivanov", **changes.model_dump(include=changes.model_fields_set)
    )
    # Left out stays left out, null travels as null ("remove the barcode").
    assert update.model_dump(mode="json", exclude_unset=True) == {
        "login": "ivanov",
        "barcode": None,
    }
    with pytest.raises(Refusal) as refused:
        registry_rpc.UpdateDevice(device_id="d1")
    assert "give name or mode" in refused.value.params["details"]
