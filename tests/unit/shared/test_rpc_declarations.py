"""RPC methods declared once: the server's handlers and the callers' parameters both come from
the declaration, and wrong parameters are the same refusal on either side of the wire."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import mypy.api
import pytest
from pydantic import Field, ValidationError

from shared.contracts import gateway_rpc, registry_rpc, routing_rpc
from shared.contracts.rpc import Call, Params, Result, RpcMethod, RpcService, many, one
from shared.errors import Refusal
from shared.messaging.rpc import RpcHandlers
from shared.messaging.topology import GATEWAY_RPC, REGISTRY_RPC, ROUTING_RPC


class Rename(Params):
    device_id: str = Field(min_length=1, max_length=10)
    name: str = Field(min_length=1)


class Renamed(Result):
    base: str
    name: str


class Devices(RpcService, queue=REGISTRY_RPC):
    rename = RpcMethod("device.rename", Rename, one(Renamed))
    forget = RpcMethod("device.forget", Rename, many(Renamed))


async def test_a_handler_gets_typed_parameters_and_the_envelopes_tenant() -> None:
    seen: list[Call[Rename]] = []

    async def handle(call: Call[Rename]) -> dict[str, str]:
        seen.append(call)
        return {"base": call.base, "name": call.params.name}

    handlers = RpcHandlers(Devices).on(Devices.rename, handle)
    answer = await handlers.answer("device.rename", {"device_id": " d1 ", "name": "A"}, "t1")

    assert answer == {"base": "t1", "name": "A"}
    assert seen[0].params == Rename(device_id="d1", name="A")  # trimmed on the way in


async def test_an_answer_leaves_as_its_declared_result_or_not_at_all() -> None:
    async def undeclared_field(call: Call[Rename]) -> dict[str, str]:
        return {"base": call.base, "name": call.params.name, "secret": "x"}

    async def as_model(call: Call[Rename]) -> Renamed:
        return Renamed(base=call.base, name=" spaced ")

    handlers = RpcHandlers(Devices).on(Devices.rename, undeclared_field)
    with pytest.raises(ValidationError, match="secret"):
        await handlers.answer("device.rename", {"device_id": "d1", "name": "A"}, "t1")
    handlers = RpcHandlers(Devices).on(Devices.rename, as_model)
    # A result is passed on as the server gave it: nothing trimmed.
    answer = await handlers.answer("device.rename", {"device_id": "d1", "name": "A"}, "t1")
    assert answer == {"base": "t1", "name": " spaced "}


async def test_wrong_parameters_are_refused_by_name_before_the_handler_runs() -> None:
    called: list[object] = []

    async def handle(call: Call[Rename]) -> Renamed:
        called.append(call)
        return Renamed(base="", name="")

    handlers = RpcHandlers(Devices).on(Devices.rename, handle)
    with pytest.raises(Refusal) as refused:
        await handlers.answer("device.rename", {"device_id": "", "nick": "x"}, "t1")

    assert (refused.value.code, refused.value.status) == ("validation_error", 422)
    details = refused.value.params["details"]
    assert "device_id: String should have at least 1 character" in details
    assert "nick: Extra inputs are not permitted" in details
    assert "name: Field required" in details
    assert called == []


async def test_a_tenant_scoped_handler_refuses_a_call_without_a_tenant() -> None:
    async def handle(call: Call[Rename]) -> Renamed:
        return Renamed(base=call.base, name="")

    handlers = RpcHandlers(Devices).on(Devices.rename, handle)
    with pytest.raises(Refusal) as refused:
        await handlers.answer("device.rename", {"device_id": "d1", "name": "A"}, None)
    assert refused.value.params == {"details": "tenant: required"}


def test_a_caller_building_wrong_parameters_gets_the_servers_refusal() -> None:
    with pytest.raises(Refusal) as on_the_caller:
        Rename(device_id="x" * 11, name="A")
    with pytest.raises(Refusal) as off_the_wire:
        Devices.rename.read_params({"device_id": "x" * 11, "name": "A"})
    assert on_the_caller.value.code == off_the_wire.value.code == "validation_error"
    assert on_the_caller.value.params == off_the_wire.value.params


def test_every_declared_method_must_have_a_handler_and_only_once() -> None:
    async def handle(call: Call[Rename]) -> Renamed:
        return Renamed(base="", name="")

    handlers = RpcHandlers(Devices).on(Devices.rename, handle)
    with pytest.raises(ValueError, match=r"no handler for device\.forget"):
        handlers.complete()
    with pytest.raises(ValueError, match="has a handler already"):
        handlers.on(Devices.rename, handle)
    with pytest.raises(ValueError, match="declared twice"):

        class Twice(RpcService, queue=REGISTRY_RPC):
            rename = RpcMethod("device.rename", Rename, one(Renamed))
            again = RpcMethod("device.rename", Rename, one(Renamed))

    class Elsewhere(RpcService, queue=ROUTING_RPC):
        rename = RpcMethod("device.rename", Rename, one(Renamed))

    with pytest.raises(ValueError, match=r"not a method of registry\.rpc"):
        RpcHandlers(Devices).on(Elsewhere.rename, handle)


class Recorded:
    """A caller that answers from a table and notes what it was asked."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.asked: list[tuple[str, Params, str | None]] = []

    async def call(self, method: RpcMethod[P, R], params: P, tenant: str | None = None) -> R:
        self.asked.append((method.name, params, tenant))
        return method.result.validate_python(self.answer)


P = TypeVar("P", bound=Params)
R = TypeVar("R")


async def test_a_client_asks_the_declared_method_for_its_base_and_gets_the_declared_result() -> (
    None
):
    caller = Recorded({"base": "t1", "name": "A"})
    renamed = await Devices(caller, "t1").rename(Rename(device_id="d1", name="A"))
    assert renamed == Renamed(base="t1", name="A")
    assert caller.asked == [("device.rename", Rename(device_id="d1", name="A"), "t1")]
    # Read off the class, a method is its declaration (for the server's registration).
    assert isinstance(Devices.rename, RpcMethod) and Devices.rename.queue == REGISTRY_RPC


def test_the_proxys_types_come_from_the_declaration() -> None:
    # mypy (strict, the project's settings) over a sample of calls: each result is the
    # declared type; asking with another method's parameters, or answering another method's
    # result, are the only errors.
    sample = Path(__file__).with_name("rpc_typing_sample.py")
    report, _, status = mypy.api.run([str(sample), "--no-error-summary"])
    errors = [line for line in report.splitlines() if ": error:" in line]
    marked = [n for n, line in enumerate(sample.read_text().splitlines(), 1) if "# error:" in line]
    assert status == 1 and len(errors) == len(marked) == 2, report
    for line, error in zip(marked, errors, strict=True):
        assert f"rpc_typing_sample.py:{line}: error:" in error, error
    assert 'incompatible type "ByLogin"; expected "ByDevice"' in errors[0]
    assert "list[TenantSummary]" in errors[1]


def test_the_services_declare_their_methods_on_their_own_queues() -> None:
    registry_names = list(registry_rpc.Registry.methods)
    routing_names = list(routing_rpc.Routing.methods)
    assert {m.queue for m in registry_rpc.Registry.methods.values()} == {REGISTRY_RPC}
    assert {m.queue for m in routing_rpc.Routing.methods.values()} == {ROUTING_RPC}
    assert "device.block" in registry_names and "user.update" in registry_names
    assert "process.list" in routing_names and "document.journey" in routing_names
    assert {m.queue for m in gateway_rpc.Gateway.methods.values()} == {GATEWAY_RPC}
    assert list(gateway_rpc.Gateway.methods) == ["document.result_steps"]


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
