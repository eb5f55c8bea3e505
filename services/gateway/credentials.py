"""The devices and bases this gateway instance has authenticated lately, held in memory.

A credential's copy is read from the store once, then answered from memory. A change that
decides who may call (a device blocked, unblocked, retired, replaced or paired anew, a key
rotated) is written to the store first and then announced to every instance before the change
is answered (:class:`AccessNews`): each drops what it held for that device or base, and wakes
the device's waiting long polls, which look again and end with the refusal.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, TypeVar

from services.gateway.inbox_watch import InboxWatch
from services.gateway.records import DeviceCopy, TenantCopy
from shared.logging import get_logger
from shared.messaging.broadcast import Broadcast
from shared.metrics import ACCESS_NEWS

log = get_logger("tsdx.gateway.credentials")

ACCESS_EXCHANGE = "tsdx.gateway.access"


C = TypeVar("C", DeviceCopy, TenantCopy)


class _Copies(Generic[C]):
    """Copies by secret hash, with the hash of each by id, at most ``size`` of them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._by_hash: OrderedDict[str, C] = OrderedDict()
        self._hash_of: dict[str, str] = {}

    def get(self, secret_hash: str) -> C | None:
        return self._by_hash.get(secret_hash)

    def put(self, secret_hash: str, copy: C) -> None:
        self.forget(copy.id)
        self._by_hash[secret_hash] = copy
        self._hash_of[copy.id] = secret_hash
        while len(self._by_hash) > self._size:
            _, oldest = self._by_hash.popitem(last=False)
            self._hash_of.pop(oldest.id, None)

    def forget(self, record_id: str) -> None:
        secret_hash = self._hash_of.pop(record_id, None)
        if secret_hash is not None:
            self._by_hash.pop(secret_hash, None)

    def clear(self) -> None:
        self._by_hash.clear()
        self._hash_of.clear()

    def __len__(self) -> int:
        return len(self._by_hash)


class CredentialCache:
    """Devices by credential hash and bases by API-key hash.

    A copy read from the store is kept only if nothing was forgotten since the read began
    (``generation``): a read that raced a change must not bring the old copy back."""

    def __init__(self, size: int = 100_000) -> None:
        self._devices: _Copies[DeviceCopy] = _Copies(size)
        self._tenants: _Copies[TenantCopy] = _Copies(size)
        self.generation = 0

    def device(self, credential_hash: str) -> DeviceCopy | None:
        return self._devices.get(credential_hash)

    def tenant(self, key_hash: str) -> TenantCopy | None:
        return self._tenants.get(key_hash)

    def keep_device(self, device: DeviceCopy, read_at: int) -> None:
        if read_at == self.generation:
            self._devices.put(device.credential_hash, device)

    def keep_tenant(self, tenant: TenantCopy, read_at: int) -> None:
        if read_at == self.generation:
            self._tenants.put(tenant.api_key_hash, tenant)

    def forget_device(self, device_id: str) -> None:
        self.generation += 1
        self._devices.forget(device_id)

    def forget_tenant(self, tenant_id: str) -> None:
        self.generation += 1
        self._tenants.forget(tenant_id)

    def clear(self) -> None:
        self.generation += 1
        self._devices.clear()
        self._tenants.clear()

    def __len__(self) -> int:
        return len(self._devices) + len(self._tenants)


class AccessNews:
    """Tells every gateway instance that a device's or a base's access changed."""

    def __init__(self, cache: CredentialCache, polls: InboxWatch) -> None:
        self.cache = cache
        self._polls = polls
        self._broadcast: Broadcast | None = None

    def attach(self, broadcast: Broadcast) -> None:
        self._broadcast = broadcast

    async def device_changed(self, device_id: str) -> None:
        await self._announce({"device": device_id})

    async def tenant_changed(self, tenant_id: str) -> None:
        await self._announce({"tenant": tenant_id})

    async def _announce(self, news: dict[str, Any]) -> None:
        # Applied here first: this instance's next request must not wait for the broker.
        await self.heard(news)
        if self._broadcast is not None:
            await self._broadcast.publish(news)

    async def heard(self, news: dict[str, Any]) -> None:
        device = news.get("device")
        tenant = news.get("tenant")
        if isinstance(device, str):
            ACCESS_NEWS.labels("device").inc()
            self.cache.forget_device(device)
            self._polls.wake(device)
        elif isinstance(tenant, str):
            ACCESS_NEWS.labels("tenant").inc()
            self.cache.forget_tenant(tenant)
        else:
            log.warning("access.news_not_understood", news=str(news)[:200])

    def missed_some(self) -> None:
        """The broker connection came back: news sent meanwhile never reached this instance."""
        log.info("access.cache_cleared", reason="broker reconnected", held=len(self.cache))
        self.cache.clear()
