"""The registry's RPC methods: each method declared in ``shared.contracts.registry_rpc`` to the
directory call that answers it. The call answers in the domain's plain form (dicts); the answer
leaves as the method's declared result (``RpcHandlers``), which has exactly its fields.

Tenant-scoped methods take the tenant from the envelope (``call.base``), never from the
parameters, so a caller acting for one base cannot name another.
"""

from __future__ import annotations

from typing import Any

from services.registry import directory_feed
from services.registry.catalog import Catalogs
from services.registry.device_life import DeviceLife
from services.registry.known_devices import KnownDevices
from services.registry.pairing import Pairing
from services.registry.people import People
from services.registry.tenants import Tenants
from shared.catalog.batch import CatalogInvalid, read_batch
from shared.collector import collector_held
from shared.contracts import registry_rpc as registry
from shared.contracts.catalog import CatalogChanged
from shared.contracts.registry_rpc import Registry
from shared.contracts.rpc import Call, NoParams
from shared.errors import Refusal
from shared.messaging.rpc import RpcHandlers
from shared.onec.catalog_import import read_catalog_json
from shared.storage import Store


def tenant_handlers(handlers: RpcHandlers, tenants: Tenants) -> RpcHandlers:
    return (
        handlers.on(
            Registry.create_tenant, lambda c: tenants.create(c.params.name, c.params.tenant)
        )
        .on(Registry.list_tenants, lambda c: tenants.list_all())
        .on(Registry.authenticate_tenant, lambda c: tenants.authenticate(c.params.hash))
        .on(Registry.rotate_api_key, lambda c: tenants.rotate_api_key(c.base))
        .on(Registry.rotate_connection_code, lambda c: tenants.rotate_connection_code(c.base))
        .on(Registry.set_barcodes, lambda c: tenants.set_barcodes(c.base, c.params))
    )


def device_handlers(
    handlers: RpcHandlers, pairing: Pairing, device_life: DeviceLife, known_devices: KnownDevices
) -> RpcHandlers:
    async def pair(c: Call[registry.Pair]) -> dict[str, Any]:
        p = c.params
        return await pairing.pair(p.connection_code, p.hardware_id, p.model, p.name, p.mode)

    async def update(c: Call[registry.UpdateDevice]) -> dict[str, Any]:
        return await device_life.update(c.base, c.params.device_id, c.params.name, c.params.mode)

    async def replace(c: Call[registry.ReplaceDevice]) -> dict[str, Any]:
        return await device_life.replace(c.base, c.params.old_device, c.params.new_device)

    return (
        handlers.on(Registry.pair_device, pair)
        .on(Registry.authenticate_device, lambda c: pairing.authenticate(c.params.hash))
        .on(Registry.resolve_pin, lambda c: pairing.resolve_pin(c.base, c.params.pin))
        .on(Registry.get_device, lambda c: device_life.get(c.base, c.params.device_id))
        .on(Registry.list_devices, lambda c: device_life.list_all(c.base, c.params.status))
        .on(Registry.available_devices, lambda c: device_life.available(c.base))
        .on(Registry.known_devices, lambda c: known_devices.known(c.base))
        .on(Registry.block_device, lambda c: device_life.block(c.base, c.params.device_id))
        .on(Registry.unblock_device, lambda c: device_life.unblock(c.base, c.params.device_id))
        .on(Registry.retire_device, lambda c: device_life.retire(c.base, c.params.device_id))
        .on(Registry.update_device, update)
        .on(Registry.replace_device, replace)
    )


def people_handlers(handlers: RpcHandlers, people: People) -> RpcHandlers:
    async def create_user(c: Call[registry.NewUser]) -> dict[str, Any]:
        p = c.params
        return await people.create_user(c.base, p.login, p.name, p.password, p.barcode)

    async def update_user(c: Call[registry.UpdateUser]) -> dict[str, Any]:
        changes = c.params.model_dump(include=c.params.model_fields_set - {"login"})
        return await people.update_user(c.base, c.params.login, changes)

    async def authenticate(c: Call[registry.Credentials]) -> dict[str, Any]:
        p = c.params
        if p.barcode is not None:
            user = await people.authenticate_barcode(c.base, p.barcode)
        else:
            assert p.login is not None and p.password is not None  # checked by Credentials
            user = await people.authenticate(c.base, p.login, p.password)
        return user

    async def rename_group(c: Call[registry.GroupRename]) -> dict[str, Any]:
        return await people.rename_group(c.base, c.params.group, c.params.new_name)

    return (
        handlers.on(Registry.create_user, create_user)
        .on(Registry.list_users, lambda c: people.list_users(c.base))
        .on(Registry.get_user, lambda c: people.get_user(c.base, c.params.login))
        .on(Registry.update_user, update_user)
        .on(Registry.delete_user, lambda c: people.delete_user(c.base, c.params.login))
        .on(Registry.authenticate_user, authenticate)
        .on(Registry.groups_of_user, lambda c: people.groups_of(c.base, c.params.login))
        .on(Registry.create_group, lambda c: people.create_group(c.base, c.params.group))
        .on(Registry.list_groups, lambda c: people.list_groups(c.base))
        .on(Registry.rename_group, rename_group)
        .on(Registry.delete_group, lambda c: people.delete_group(c.base, c.params.group))
        .on(
            Registry.add_member,
            lambda c: people.add_member(c.base, c.params.group, c.params.login),
        )
        .on(
            Registry.remove_member,
            lambda c: people.remove_member(c.base, c.params.group, c.params.login),
        )
        .on(Registry.group_members, lambda c: people.members(c.base, c.params.group))
    )


def catalog_handlers(handlers: RpcHandlers, catalogs: Catalogs) -> RpcHandlers:
    async def apply(c: Call[registry.CatalogBatch]) -> dict[str, Any]:
        try:
            with collector_held():
                export = c.params.export
                native = c.params.batch if export is None else read_catalog_json(export)
                return await catalogs.apply(c.base, read_batch(native, catalogs.max_items))
        except CatalogInvalid as exc:
            errors = [e.as_json() for e in exc.errors]
            raise Refusal("catalog_invalid", 422, total=exc.total, errors=errors) from None

    async def changes(c: Call[registry.CatalogSince]) -> CatalogChanged | None:
        return await catalogs.changes(c.base, c.params.store, c.params.since, c.params.limit)

    async def heads(c: Call[NoParams]) -> list[dict[str, Any]]:
        return await catalogs.heads()

    return (
        handlers.on(Registry.apply_catalog, apply)
        .on(Registry.catalog_changes, changes)
        .on(Registry.catalog_heads, heads)
    )


def directory_handlers(handlers: RpcHandlers, store: Store) -> RpcHandlers:
    """For services that keep a copy of the directory: where it starts from."""

    async def snapshot(c: Call[registry.SnapshotPage]) -> registry.DirectorySnapshot:
        return await directory_feed.snapshot(store, c.params.after, c.params.limit)

    return handlers.on(Registry.directory_snapshot, snapshot)


def rpc_handlers(
    store: Store,
    tenants: Tenants,
    pairing: Pairing,
    device_life: DeviceLife,
    known_devices: KnownDevices,
    people: People,
    catalogs: Catalogs,
) -> RpcHandlers:
    handlers = RpcHandlers(Registry)
    tenant_handlers(handlers, tenants)
    device_handlers(handlers, pairing, device_life, known_devices)
    people_handlers(handlers, people)
    directory_handlers(handlers, store)
    return catalog_handlers(handlers, catalogs)
