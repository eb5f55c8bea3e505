"""What mypy must say about typed RPC (read by test_rpc_declarations.py, never run): a client's
result type comes from the declaration; the wrong parameters' model is an error, and so is a
handler answering another method's result."""

from __future__ import annotations

from typing import assert_type

from shared.contracts.directory import DeviceView
from shared.contracts.registry_rpc import ByDevice, ByLogin, DeviceRecord, Registry, UserView
from shared.contracts.routing_rpc import Found, Routing, Search
from shared.contracts.rpc import Call, NoParams
from shared.messaging.rpc import RpcClient, RpcHandlers


async def asked(rpc: RpcClient) -> None:
    registry = Registry(rpc, "sklad")
    assert_type(await registry.get_device(ByDevice(device_id="d1")), DeviceView | None)
    assert_type(await registry.block_device(ByDevice(device_id="d1")), DeviceRecord)
    assert_type(await registry.list_users(NoParams()), list[UserView])
    assert_type(await Routing(rpc).find_documents(Search(query="17")), Found)
    await registry.get_device(ByLogin(login="ivanov"))  # error: not its parameters


async def users(call: Call[NoParams]) -> list[UserView]:
    return []


RpcHandlers(Registry).on(Registry.list_users, users)
RpcHandlers(Registry).on(Registry.list_tenants, users)  # error: not its result
