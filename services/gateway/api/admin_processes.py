"""Business processes over HTTP: the operators' API (admin token) and the accounting side's list.

Routing owns the processes; every endpoint asks it over RPC (queue ``routing.rpc``). The same
endpoints serve two scopes:

- ``/api/v1/admin/processes``: the defaults every base starts with (the shipped processes);
- ``/api/v1/admin/tenants/{tenant}/processes``: what one base sees, its own processes over the
  defaults; changing a default here gives the base its own copy.

An accounting base lists what it sees with its API key: ``GET /api/v1/processes``.
Every change is audited (``shared.audit``), the defaults with no tenant.

Import and export are ``POST …/processes:import`` (the file as the body, YAML or JSON) and
``GET …/processes:export?format=yaml|json``: a custom method after a colon cannot be mistaken
for a process id.
"""

# No ``from __future__ import annotations`` here: the routes are declared in a function, and
# FastAPI reads their parameter annotations (the local ``Scope``) as objects, not strings.
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response

from services.gateway.auth import AdminDep, TenantDep
from shared.audit import audited
from shared.contracts import routing_rpc as routing
from shared.contracts.directory import TENANT_ID_PATTERN
from shared.contracts.documents import ShallowObject
from shared.contracts.registry_rpc import Registry
from shared.contracts.routing_rpc import Routing
from shared.contracts.rpc import NoParams, RpcMethod
from shared.errors import Refusal
from shared.http import HttpCaller
from shared.service import Runtime, RuntimeDep

router = APIRouter(tags=["processes"])

# A process file is a few kilobytes; routing refuses more than this, so it is refused here
# before it travels.
MAX_FILE_BYTES = 1024 * 1024
FILE_MEDIA_TYPES = {"yaml": "application/yaml", "json": "application/json"}

ProcessId = Annotated[
    str,
    Path(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100, examples=["purchase-receipt"]),
]
TenantId = Annotated[str, Path(pattern=TENANT_ID_PATTERN, examples=["sklad-na-lenina"])]

_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A process file as exported: {processes: [...]}, YAML or JSON",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


# Scopes: None is the defaults, a string is one base.


async def defaults_scope(_: AdminDep) -> str | None:
    return None


async def tenant_scope(tenant: TenantId, rt: RuntimeDep, _: AdminDep) -> str | None:
    tenants = await Registry(HttpCaller(rt.rpc)).list_tenants(NoParams())
    if not any(t.tenant == tenant for t in tenants):
        raise Refusal("tenant_not_found", 404, tenant=tenant)
    return tenant


def _add_admin_routes(prefix: str, scope_of: Callable[..., Any], whose: str) -> None:
    Scope = Annotated[str | None, Depends(scope_of)]

    @router.get(prefix, summary=f"List {whose} business processes")
    async def list_processes(rt: RuntimeDep, scope: Scope) -> dict[str, Any]:
        return {"processes": await _routing(rt, scope).list_processes(NoParams())}

    @router.get(
        f"{prefix}:export",
        summary=f"Export {whose} business processes as a file (YAML or JSON)",
        response_class=Response,
        responses={200: {"content": {t: {} for t in FILE_MEDIA_TYPES.values()}}},
    )
    async def export_processes(
        rt: RuntimeDep,
        scope: Scope,
        fmt: Annotated[routing.FileFormat, Query(alias="format")] = "yaml",
    ) -> Response:
        exported = await _routing(rt, scope).export_processes(routing.Export(format=fmt))
        return Response(
            exported.text,
            media_type=f"{FILE_MEDIA_TYPES[fmt]}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="processes.{fmt}"'},
        )

    @router.post(
        f"{prefix}:import",
        summary=f"Import a process file into {whose} processes: all of it or nothing",
        openapi_extra=_IMPORT_BODY,
    )
    async def import_processes(request: Request, rt: RuntimeDep, scope: Scope) -> Any:
        with audited("process.import", tenant=scope, target=None):
            text = _file_text(await request.body())
            file = routing.ImportFile(text=text)
            return await _routing(rt, scope).import_processes(file)

    @router.get(f"{prefix}/{{process_id}}", summary=f"One of {whose} business processes")
    async def get_process(process_id: ProcessId, rt: RuntimeDep, scope: Scope) -> Any:
        return await _routing(rt, scope).get_process(routing.ById(id=process_id))

    @router.put(
        f"{prefix}/{{process_id}}",
        summary=f"Create or replace one of {whose} business processes",
    )
    async def put_process(
        process_id: ProcessId,
        rt: RuntimeDep,
        scope: Scope,
        body: Annotated[ShallowObject, Body(examples=[_EXAMPLE])],
    ) -> Any:
        with audited("process.put", tenant=scope, target=process_id):
            if body.setdefault("id", process_id) != process_id:
                raise Refusal("validation_error", 422, details="id: differs from the address")
            put = routing.PutProcess(process=body)
            return await _routing(rt, scope).put_process(put)

    @router.post(f"{prefix}/{{process_id}}/enable", summary="Enable a business process")
    async def enable_process(process_id: ProcessId, rt: RuntimeDep, scope: Scope) -> Any:
        return await _change(rt, Routing.enable_process, process_id, scope)

    @router.post(f"{prefix}/{{process_id}}/disable", summary="Disable a business process")
    async def disable_process(process_id: ProcessId, rt: RuntimeDep, scope: Scope) -> Any:
        return await _change(rt, Routing.disable_process, process_id, scope)

    @router.delete(f"{prefix}/{{process_id}}", summary="Delete a business process")
    async def delete_process(process_id: ProcessId, rt: RuntimeDep, scope: Scope) -> Any:
        return await _change(rt, Routing.delete_process, process_id, scope)


R = TypeVar("R")


def _routing(rt: Runtime, scope: str | None) -> Routing:
    """Routing, asked for one base's processes (None: the defaults)."""
    return Routing(HttpCaller(rt.rpc), scope)


async def _change(
    rt: Runtime, method: RpcMethod[routing.ById, R], process_id: str, scope: str | None
) -> R:
    with audited(method.name, tenant=scope, target=process_id):
        return await HttpCaller(rt.rpc).call(method, routing.ById(id=process_id), scope)


def _file_text(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise Refusal("body_too_large", 413, limit=MAX_FILE_BYTES)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refusal(
            "process_file_invalid", 422, details=f"not UTF-8 text (byte {exc.start})"
        ) from None


_EXAMPLE = {
    "name": "Приёмка на склад",
    "source_type": "Приходный ордер на товары",
    "terminal_type": "Приёмка на склад",
    "result_type": "Приходный ордер на товары",
    "assign_to": "users_groups",
    "quantity_control": True,
}

_add_admin_routes("/api/v1/admin/processes", defaults_scope, "the default")
_add_admin_routes("/api/v1/admin/tenants/{tenant}/processes", tenant_scope, "a base's")


# The accounting side: what this base may upload with.


@router.get("/api/v1/processes", summary="The business processes this base can upload with")
async def base_processes(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    return {"processes": await _routing(rt, tenant.id).list_processes(NoParams())}


@router.get("/api/v1/processes/{process_id}", summary="One business process of this base")
async def base_process(process_id: ProcessId, rt: RuntimeDep, tenant: TenantDep) -> Any:
    return await _routing(rt, tenant.id).get_process(routing.ById(id=process_id))
