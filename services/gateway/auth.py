"""Who is calling: an accounting base (API key), a paired device (credential), an operator.

Keys and credentials are checked against the gateway's own copies of the registry's records
(by hash), held in memory once read (``credentials``); an unknown hash is asked of the registry
once and then kept. Each credential has
its own request rate; each device's calls also count as a sighting (``last_seen``, written in
batches: ``presence.py``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway import repository as repo
from services.gateway.directory import device_copy, tenant_record
from services.gateway.parts import gateway_parts
from services.gateway.records import DeviceCopy, TenantCopy
from shared.contracts import registry_rpc as registry
from shared.contracts.registry_rpc import Registry
from shared.contracts.rpc import RpcMethod
from shared.errors import Refusal
from shared.http import HttpCaller, check_admin_token
from shared.metrics import RATE_LIMITED
from shared.security import hash_token
from shared.service import Runtime, RuntimeDep

R = TypeVar("R")

bearer = HTTPBearer(auto_error=False, description="API key, device credential or admin token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


# For endpoints that read the Authorization header themselves (see ``bearer_token``).
BEARER_SECURITY: dict[str, Any] = {"security": [{bearer.scheme_name: []}]}


def _present(token: str | None) -> str:
    if token is None or not token.strip():
        raise Refusal("unauthorized", 401)
    return token.strip()


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    return _present(credentials.credentials if credentials is not None else None)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header, read as :data:`bearer` reads it."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        raise Refusal("unauthorized", 401)
    return _present(token)


class RecentlyRefused:
    """Hashes the registry refused lately, so a caller repeating a wrong key or credential is
    answered here instead of costing the registry a round trip each time. Keys and credentials
    are random: a refused hash cannot become valid later, only an expired entry is forgotten."""

    def __init__(self, seconds: float = 60.0, size: int = 10_000) -> None:
        self._seconds = seconds
        self._size = size
        self._until: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, key_hash: str) -> bool:
        until = self._until.get(key_hash)
        if until is None:
            return False
        if until < time.monotonic():
            del self._until[key_hash]
            return False
        return True

    def add(self, key_hash: str) -> None:
        self._until[key_hash] = time.monotonic() + self._seconds
        self._until.move_to_end(key_hash)
        while len(self._until) > self._size:
            self._until.popitem(last=False)


async def _ask_registry(rt: Runtime, method: RpcMethod[registry.ByHash, R], key_hash: str) -> R:
    refused = gateway_parts(rt).refused_hashes
    if key_hash in refused:
        raise Refusal("unauthorized", 401)
    try:
        result = await HttpCaller(rt.rpc).call(method, registry.ByHash(hash=key_hash))
    except Refusal as refusal:
        if refusal.code == "unauthorized":
            refused.add(key_hash)
        raise
    return result


@contextmanager
def worded_as_the_api_key() -> Iterator[None]:
    """A refused key of the accounting side said as the base's API key, with where it goes:
    the code stays ``unauthorized`` (what clients act on)."""
    try:
        yield
    except Refusal as refusal:
        if refusal.code == "unauthorized":
            refusal.worded_as("api_key_wrong")
        raise


async def current_tenant(rt: RuntimeDep, credentials: Bearer) -> TenantCopy:
    with worded_as_the_api_key():
        return await authenticate_tenant(rt, _token(credentials))


async def authenticate_tenant(rt: Runtime, api_key: str) -> TenantCopy:
    """The active base holding ``api_key``; its call counts against its rate."""
    key_hash = hash_token(api_key)
    cache = gateway_parts(rt).access.cache
    tenant = cache.tenant(key_hash)
    if tenant is None:
        read_at = cache.generation
        tenant = await repo.tenant_by_key_hash(rt.store, key_hash)
        if tenant is None:
            record = await _ask_registry(rt, Registry.authenticate_tenant, key_hash)
            found = repo.tenant_copy(tenant_record(record))
            await repo.keep_tenant(rt.store, found)
            tenant = TenantCopy.of(found)
        cache.keep_tenant(tenant, read_at)
    if not tenant.active:
        raise Refusal("unauthorized", 401)
    _within_rate(rt, f"key:{key_hash}")
    return tenant


async def current_device(rt: RuntimeDep, credentials: Bearer) -> DeviceCopy:
    return await authenticate_device(rt, _token(credentials))


async def authenticate_device(rt: Runtime, credential: str) -> DeviceCopy:
    """The paired, active device holding ``credential``; its call counts against its rate and
    as a sighting."""
    credential_hash = hash_token(credential)
    device = await device_holding(rt, credential_hash)
    await refuse_unless_active(rt, device)
    _within_rate(rt, f"device:{credential_hash}")
    record_sighting(rt, device)
    return device


async def device_holding(rt: Runtime, credential_hash: str) -> DeviceCopy:
    """The gateway's copy of the device holding the credential: from memory, else from the
    store, else from the registry (refused when it knows no such credential)."""
    cache = gateway_parts(rt).access.cache
    device = cache.device(credential_hash)
    if device is not None:
        return device
    read_at = cache.generation
    device = await repo.device_by_credential_hash(rt.store, credential_hash)
    if device is None:
        found = await _ask_registry(rt, Registry.authenticate_device, credential_hash)
        kept = device_copy(found.device, found.credential_hash, found.revision)
        await repo.keep_device_now(rt.store, kept)
        device = DeviceCopy.of(kept)
    cache.keep_device(device, read_at)
    return device


async def refuse_unless_active(rt: Runtime, device: DeviceCopy) -> None:
    """A device that may no longer call is told why: blocked (an operator may let it in
    again), retired, or replaced by another terminal (it has to be paired anew)."""
    status = device.status
    if status == "active":
        return
    if status == "retired" and await repo.was_replaced(rt.store, device.id):
        raise Refusal("device_replaced", 401, pin=device.pin)
    if status in ("blocked", "retired"):
        raise Refusal(f"device_{status}", 401, pin=device.pin)
    raise Refusal("unauthorized", 401)


def _within_rate(rt: Runtime, credential: str) -> None:
    limiter = gateway_parts(rt).rate_limiter
    wait = limiter.take(credential)
    if wait is not None:
        RATE_LIMITED.inc()
        raise Refusal("rate_limited", 429, retry_after=wait)


def record_sighting(rt: Runtime, device: DeviceCopy) -> None:
    """The device is in contact now: count it online; its ``last_seen`` and the others' news
    of it (the dashboard shows who is online) are written with the next batch
    (``sightings.py``)."""
    gateway_parts(rt).presence.saw(device.id, device.tenant, datetime.now(UTC))


async def require_admin(rt: RuntimeDep, credentials: Bearer) -> None:
    check_admin_token(credentials, rt.settings.admin_token)


TenantDep = Annotated[TenantCopy, Depends(current_tenant)]
DeviceDep = Annotated[DeviceCopy, Depends(current_device)]
AdminDep = Annotated[None, Depends(require_admin)]
