"""The registry's RPC methods: each declared method of ``shared.contracts.registry_rpc`` to
the directory call that answers it.

Tenant-scoped methods take the tenant from the envelope (``call.base``), never from the
parameters, so a caller acting for one base cannot name another.
"""

from __future__ import annotations

from services.registry import directory_feed
from services.registry.catalog import Catalogs
from services.registry.device_life import DeviceLife
from services.registry.known_devices import KnownDevices
from services.registry.pairing import Pairing
from services.registry.people import People
from services.registry.tenants import Tenants
from shared.catalog.batch import CatalogInvalid, read_batch
from shared.contracts import registry_rpc as registry
from shared.contracts.catalog import CatalogChanged
from shared.contracts.rpc import Call, NoParams, Record
from shared.errors import Refusal
from shared.messaging.rpc import RpcHandlers
from shared.storage import Store


def tenant_handlers(handlers: RpcHandlers, tenants: Tenants) -> RpcHandlers:
    return (
        handlers.on(
            registry.create_tenant, lambda c: tenants.create(c.params.name, c.params.tenant)
        )
        .on(registry.list_tenants, lambda c: tenants.list_all())
        .on(registry.authenticate_tenant, lambda c: tenants.authenticate(c.params.hash))
        .on(registry.rotate_api_key, lambda c: tenants.rotate_api_key(c.base))
        .on(registry.rotate_connection_code, lambda c: tenants.rotate_connection_code(c.base))
        .on(registry.set_barcodes, lambda c: tenants.set_barcodes(c.base, c.params))
    )


def device_handlers(
    handlers: RpcHandlers, pairing: Pairing, device_life: DeviceLife, known_devices: KnownDevices
) -> RpcHandlers:
    async def pair(c: Call[registry.Pair]) -> registry.Paired:
        p = c.params
        paired = await pairing.pair(p.connection_code, p.hardware_id, p.model, p.name, p.mode)
        return registry.Paired.model_validate(paired)

    async def update(c: Call[registry.UpdateDevice]) -> Record:
        return await device_life.update(c.base, c.params.device_id, c.params.name, c.params.mode)

    async def replace(c: Call[registry.ReplaceDevice]) -> registry.Replaced:
        replaced = await device_life.replace(c.base, c.params.old_device, c.params.new_device)
        return registry.Replaced.model_validate(replaced)

    return (
        handlers.on(registry.pair_device, pair)
        .on(registry.authenticate_device, lambda c: pairing.authenticate(c.params.hash))
        .on(registry.resolve_pin, lambda c: pairing.resolve_pin(c.base, c.params.pin))
        .on(registry.get_device, lambda c: device_life.get(c.base, c.params.device_id))
        .on(registry.list_devices, lambda c: device_life.list_all(c.base, c.params.status))
        .on(registry.available_devices, lambda c: device_life.available(c.base))
        .on(registry.known_devices, lambda c: known_devices.known(c.base))
        .on(registry.block_device, lambda c: device_life.block(c.base, c.params.device_id))
        .on(registry.unblock_device, lambda c: device_life.unblock(c.base, c.params.device_id))
        .on(registry.retire_device, lambda c: device_life.retire(c.base, c.params.device_id))
        .on(registry.update_device, update)
        .on(registry.replace_device, replace)
    )


def people_handlers(handlers: RpcHandlers, people: People) -> RpcHandlers:
    async def create_user(c: Call[registry.NewUser]) -> Record:
        p = c.params
        return await people.create_user(c.base, p.login, p.name, p.password, p.barcode)

    async def update_user(c: Call[registry.UpdateUser]) -> Record:
        changes = c.params.model_dump(include=c.params.model_fields_set - {"login"})
        return await people.update_user(c.base, c.params.login, changes)

    async def authenticate(c: Call[registry.Credentials]) -> registry.SignedIn:
        p = c.params
        if p.barcode is not None:
            user = await people.authenticate_barcode(c.base, p.barcode)
        else:
            assert p.login is not None and p.password is not None  # checked by Credentials
            user = await people.authenticate(c.base, p.login, p.password)
        return registry.SignedIn.model_validate(user)

    async def rename_group(c: Call[registry.GroupRename]) -> Record:
        return await people.rename_group(c.base, c.params.group, c.params.new_name)

    return (
        handlers.on(registry.create_user, create_user)
        .on(registry.list_users, lambda c: people.list_users(c.base))
        .on(registry.get_user, lambda c: people.get_user(c.base, c.params.login))
        .on(registry.update_user, update_user)
        .on(registry.delete_user, lambda c: people.delete_user(c.base, c.params.login))
        .on(registry.authenticate_user, authenticate)
        .on(registry.groups_of_user, lambda c: people.groups_of(c.base, c.params.login))
        .on(registry.create_group, lambda c: people.create_group(c.base, c.params.group))
        .on(registry.list_groups, lambda c: people.list_groups(c.base))
        .on(registry.rename_group, rename_group)
        .on(registry.delete_group, lambda c: people.delete_group(c.base, c.params.group))
        .on(
            registry.add_member,
            lambda c: people.add_member(c.base, c.params.group, c.params.login),
        )
        .on(
            registry.remove_member,
            lambda c: people.remove_member(c.base, c.params.group, c.params.login),
        )
        .on(registry.group_members, lambda c: people.members(c.base, c.params.group))
    )


def catalog_handlers(handlers: RpcHandlers, catalogs: Catalogs) -> RpcHandlers:
    async def apply(c: Call[registry.CatalogBatch]) -> Record:
        try:
            return await catalogs.apply(c.base, read_batch(c.params.batch, catalogs.max_items))
        except CatalogInvalid as exc:
            errors = [e.as_json() for e in exc.errors]
            raise Refusal("catalog_invalid", 422, total=exc.total, errors=errors) from None

    async def changes(c: Call[registry.CatalogSince]) -> CatalogChanged | None:
        return await catalogs.changes(c.base, c.params.store, c.params.since, c.params.limit)

    async def heads(c: Call[NoParams]) -> list[registry.CatalogHead]:
        return [registry.CatalogHead.model_validate(h) for h in await catalogs.heads()]

    return (
        handlers.on(registry.apply_catalog, apply)
        .on(registry.catalog_changes, changes)
        .on(registry.catalog_heads, heads)
    )


def directory_handlers(handlers: RpcHandlers, store: Store) -> RpcHandlers:
    """For services that keep a copy of the directory: where it starts from."""

    async def snapshot(c: Call[registry.SnapshotPage]) -> registry.DirectorySnapshot:
        return await directory_feed.snapshot(store, c.params.after, c.params.limit)

    return handlers.on(registry.directory_snapshot, snapshot)


def rpc_handlers(
    store: Store,
    tenants: Tenants,
    pairing: Pairing,
    device_life: DeviceLife,
    known_devices: KnownDevices,
    people: People,
    catalogs: Catalogs,
) -> RpcHandlers:
    handlers = RpcHandlers(registry.REGISTRY)
    tenant_handlers(handlers, tenants)
    device_handlers(handlers, pairing, device_life, known_devices)
    people_handlers(handlers, people)
    directory_handlers(handlers, store)
    return catalog_handlers(handlers, catalogs)
