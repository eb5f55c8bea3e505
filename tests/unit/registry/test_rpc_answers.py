"""The registry's RPC answers: every method's declared result has exactly the fields its use
case answers, so the JSON on the wire, and what the operators' API passes on from the typed
client, is byte for byte the use case's answer. On the registry's real SQLite store, no broker:
the handlers are asked as the RPC server asks them."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson
import pytest

from services.registry.catalog import Catalogs
from services.registry.consumers import rpc_handlers
from services.registry.device_life import DeviceLife
from services.registry.known_devices import KnownDevices
from services.registry.pairing import Pairing
from services.registry.people import People
from services.registry.tenants import Tenants
from shared.contracts.registry_rpc import Registry
from shared.errors import Refusal
from shared.messaging.rpc import RpcHandlers
from shared.outbox import UnitOfWork
from shared.security import hash_token
from shared.storage import Store
from tests.support.catalog import product
from tests.unit.registry.steps import decided, remember


class Recording:
    """Stands for a use case: passes every call through and keeps what it answered."""

    def __init__(self, use_case: object, answers: list[object]) -> None:
        self._use_case = use_case
        self._answers = answers

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._use_case, name)
        if not inspect.iscoroutinefunction(found):
            return found

        async def recorded(*args: Any, **kwargs: Any) -> Any:
            answer = await found(*args, **kwargs)
            self._answers.append(answer)
            return answer

        return recorded


Ask = Callable[[str, dict[str, Any], str | None], Awaitable[Any]]


@pytest.fixture
def answers() -> list[object]:
    return []


@pytest.fixture
def handlers(
    store: Store,
    tenants: Tenants,
    pairing: Pairing,
    device_life: DeviceLife,
    known_devices: KnownDevices,
    people: People,
    answers: list[object],
) -> RpcHandlers:
    def recorded(use_case: Any) -> Any:
        return cast(Any, Recording(use_case, answers))

    catalogs = Catalogs(UnitOfWork(store, None))
    return rpc_handlers(
        store,
        recorded(tenants),
        recorded(pairing),
        recorded(device_life),
        recorded(known_devices),
        recorded(people),
        recorded(catalogs),
    ).complete()


@pytest.fixture
def ask(handlers: RpcHandlers, answers: list[object]) -> Ask:
    """Ask a method as the RPC server does; check its answer against the use case's."""

    async def asked(name: str, params: dict[str, Any], tenant: str | None) -> Any:
        answers.clear()
        on_the_wire = await handlers.answer(name, params, tenant)
        (plain,) = answers
        # The use case's answer, byte for byte (names, order, null and absent alike) ...
        assert orjson.dumps(on_the_wire) == orjson.dumps(plain), name
        # ... and the typed client's result passes on the same JSON (as FastAPI renders it).
        result = Registry.methods[name].result
        again = result.dump_python(result.validate_python(on_the_wire), mode="json", by_alias=True)
        assert orjson.dumps(again) == orjson.dumps(on_the_wire), name
        return on_the_wire

    return asked


async def test_the_tenant_methods_answer_as_their_use_cases(ask: Ask) -> None:
    created = await ask("tenant.create", {"name": "Склад на Ленина", "tenant": "sklad"}, None)
    assert list(created) == ["tenant", "name", "api_key", "connection_code"]
    [listed] = await ask("tenant.list", {}, None)
    assert listed["devices"] == 0 and listed["created_at"]
    rotated = await ask("tenant.rotate_key", {}, "sklad")
    assert rotated["api_key"] != created["api_key"]
    await ask("tenant.rotate_code", {}, "sklad")
    record = await ask("tenant.authenticate", {"hash": hash_token(rotated["api_key"])}, None)
    assert "api_key" not in record and record["barcodes"]["item_digits"] == 5
    await ask("tenant.set_barcodes", {"item_digits": 6, "weight_digits": 4}, "sklad")


async def test_the_device_methods_answer_as_their_use_cases(
    ask: Ask, base: dict[str, str], known_devices: KnownDevices
) -> None:
    pair = {"connection_code": base["connection_code"], "model": "EDA50"}
    first = await ask("device.pair", {**pair, "hardware_id": "hw-1"}, None)
    second = await ask("device.pair", {**pair, "hardware_id": "hw-2", "name": "№2"}, None)
    assert first["device"]["last_seen"] is None  # present, as null
    one, two = first["device"]["id"], second["device"]["id"]
    await ask("device.authenticate", {"hash": hash_token(first["credential"])}, None)
    await ask("device.resolve_pin", {"pin": first["device"]["pin"]}, "sklad")
    assert await ask("device.resolve_pin", {"pin": "0000"}, "sklad") is None
    await ask("device.get", {"device_id": one}, "sklad")
    assert await ask("device.get", {"device_id": "nobody"}, "sklad") is None
    await ask("device.list", {}, "sklad")
    await ask("device.available", {}, "sklad")
    await remember(known_devices, "sklad", decided([("device", one)]))
    [known] = await ask("device.known", {}, "sklad")
    assert known["id"] == one and known["last_used_at"]
    await ask("device.update", {"device_id": one, "name": "Приёмка", "mode": "offline"}, "sklad")
    await ask("device.block", {"device_id": one}, "sklad")
    await ask("device.unblock", {"device_id": one}, "sklad")
    replaced = await ask("device.replace", {"old_device": one, "new_device": two}, "sklad")
    assert replaced["old"]["device"]["status"] == "retired"
    await ask("device.retire", {"device_id": two}, "sklad")


async def test_the_people_methods_answer_as_their_use_cases(ask: Ask, base: dict[str, str]) -> None:
    user = await ask("user.create", {"login": "ivanov", "password": "secret"}, "sklad")
    assert user["has_password"] is True and user["groups"] == []
    await ask("user.create", {"login": "petrov", "barcode": "2000001"}, "sklad")
    await ask("user.list", {}, "sklad")
    await ask("user.get", {"login": "ivanov"}, "sklad")
    await ask("user.update", {"login": "petrov", "name": "Петров", "barcode": None}, "sklad")
    await ask("group.create", {"group": "Кладовщики"}, "sklad")
    await ask("group.add_member", {"group": "Кладовщики", "login": "ivanov"}, "sklad")
    await ask("group.rename", {"group": "Кладовщики", "new_name": "Смена 1"}, "sklad")
    await ask("group.list", {}, "sklad")
    assert await ask("group.members", {"group": "Смена 1"}, "sklad") == ["ivanov"]
    assert await ask("user.groups", {"login": "ivanov"}, "sklad") == ["Смена 1"]
    signed_in = await ask("user.authenticate", {"login": "ivanov", "password": "secret"}, "sklad")
    assert signed_in == {"login": "ivanov", "name": "ivanov", "groups": ["Смена 1"]}
    await ask("group.remove_member", {"group": "Смена 1", "login": "ivanov"}, "sklad")
    assert await ask("group.delete", {"group": "Смена 1"}, "sklad") == {
        "group": "Смена 1",
        "deleted": True,
    }
    assert await ask("user.delete", {"login": "petrov"}, "sklad") == {
        "login": "petrov",
        "deleted": True,
    }


async def test_the_catalog_methods_answer_as_their_use_cases(
    ask: Ask, base: dict[str, str]
) -> None:
    applied = await ask("catalog.apply", {"batch": {"products": [product(1)]}}, "sklad")
    assert applied == {"store": "", "version": 1, "changed": 1, "unchanged": 0}
    assert await ask("catalog.heads", {}, None) == [{"tenant": "sklad", "store": "", "version": 1}]


async def test_the_catalog_is_applied_from_the_text_1c_sent_as_from_the_native_batch(
    ask: Ask, handlers: RpcHandlers, base: dict[str, str]
) -> None:
    export = json.dumps({"Товары": [{"Ид": "p-2", "Наименование": "Кефир"}]}, ensure_ascii=False)
    applied = await ask("catalog.apply", {"export": "\ufeff" + export}, "sklad")
    assert applied == {"store": "", "version": 1, "changed": 1, "unchanged": 0}
    # The native batch of the same item is no change; a text that is not JSON is 1C's refusal.
    batch = {"products": [{"id": "p-2", "name": "Кефир"}]}
    assert (await ask("catalog.apply", {"batch": batch}, "sklad"))["unchanged"] == 1
    with pytest.raises(Refusal) as not_json:
        await handlers.answer("catalog.apply", {"export": "{"}, "sklad")
    assert not_json.value.code == "onec_not_json"
    for neither_or_both in ({}, {"batch": batch, "export": export}):
        with pytest.raises(Refusal) as wrong:
            await handlers.answer("catalog.apply", neither_or_both, "sklad")
        assert wrong.value.code == "validation_error"
