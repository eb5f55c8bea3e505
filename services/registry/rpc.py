"""The registry's RPC methods: thin adapters from request parameters to the directory."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.registry.directory import Directory
from shared.contracts import Envelope
from shared.contracts.documents import DeviceMode
from shared.errors import Refusal
from shared.messaging.rpc import Method


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateTenant(_Params):
    name: str = Field(min_length=1, max_length=200)
    tenant: str | None = Field(default=None, max_length=63)


class Pair(_Params):
    connection_code: str = Field(min_length=1, max_length=100)
    hardware_id: str = Field(min_length=1, max_length=200)
    model: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=200)
    mode: DeviceMode = "online"


class ByHash(_Params):
    hash: str = Field(min_length=64, max_length=64)


class ByPin(_Params):
    pin: str = Field(min_length=1, max_length=20)


class ByDevice(_Params):
    device_id: str = Field(min_length=1, max_length=100)


class NoParams(_Params):
    pass


def _parse(model: type[_Params], params: dict[str, Any]) -> Any:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise Refusal("validation_error", 422, details=details) from None


def _tenant(envelope: Envelope) -> str:
    if not envelope.tenant:
        raise Refusal("validation_error", 422, details="tenant: required")
    return envelope.tenant


def methods(directory: Directory) -> dict[str, Method]:
    async def create_tenant(env: Envelope, params: dict[str, Any]) -> Any:
        p = _parse(CreateTenant, params)
        return await directory.create_tenant(p.name, p.tenant)

    async def list_tenants(env: Envelope, params: dict[str, Any]) -> Any:
        _parse(NoParams, params)
        return await directory.list_tenants()

    async def authenticate_tenant(env: Envelope, params: dict[str, Any]) -> Any:
        return await directory.authenticate_tenant(_parse(ByHash, params).hash)

    async def pair(env: Envelope, params: dict[str, Any]) -> Any:
        p = _parse(Pair, params)
        return await directory.pair(p.connection_code, p.hardware_id, p.model, p.name, p.mode)

    async def authenticate_device(env: Envelope, params: dict[str, Any]) -> Any:
        return await directory.authenticate_device(_parse(ByHash, params).hash)

    async def resolve_pin(env: Envelope, params: dict[str, Any]) -> Any:
        return await directory.resolve_pin(_tenant(env), _parse(ByPin, params).pin)

    async def get_device(env: Envelope, params: dict[str, Any]) -> Any:
        return await directory.get_device(_tenant(env), _parse(ByDevice, params).device_id)

    async def available_devices(env: Envelope, params: dict[str, Any]) -> Any:
        _parse(NoParams, params)
        return await directory.available_devices(_tenant(env))

    async def known_devices(env: Envelope, params: dict[str, Any]) -> Any:
        _parse(NoParams, params)
        return await directory.known_devices(_tenant(env))

    return {
        "tenant.create": create_tenant,
        "tenant.list": list_tenants,
        "tenant.authenticate": authenticate_tenant,
        "device.pair": pair,
        "device.authenticate": authenticate_device,
        "device.resolve_pin": resolve_pin,
        "device.get": get_device,
        "device.available": available_devices,
        "device.known": known_devices,
    }
