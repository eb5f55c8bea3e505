"""What mypy must say about a typed RPC client (read by test_rpc_declarations.py, never run):
the result's type comes from the declaration, and the wrong parameters' model is an error."""

from __future__ import annotations

from typing import assert_type

from shared.contracts.directory import DeviceView
from shared.contracts.registry_rpc import ByDevice, ByLogin, DeviceRecord, Registry, UserView
from shared.contracts.routing_rpc import Found, Routing, Search
from shared.contracts.rpc import NoParams
from shared.messaging.rpc import RpcClient


async def asked(rpc: RpcClient) -> None:
    registry = Registry(rpc, "sklad")
    assert_type(await registry.get_device(ByDevice(device_id="d1")), DeviceView | None)
    assert_type(await registry.block_device(ByDevice(device_id="d1")), DeviceRecord)
    assert_type(await registry.list_users(NoParams()), list[UserView])
    assert_type(await Routing(rpc).find_documents(Search(query="17")), Found)
    await registry.get_device(ByLogin(login="ivanov"))  # the one error: not its parameters
