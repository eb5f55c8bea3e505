"""Thin async clients of the gateway: one class per audience, one method per endpoint."""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import quote

import httpx
import orjson

# How long an idle connection is kept for the next call: well below the servers' keep-alive
# (uvicorn's 5 s). A connection idle for about as long as that may be closed by the server just
# as the next request goes out on it, and that request then fails with a read error.
KEEPALIVE_EXPIRY_SECONDS = 2.0


class ApiError(Exception):
    """The server refused the call: HTTP status, stable code and message."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.code = str(body.get("code", "http_error"))
        self.message = str(body.get("message", ""))
        self.body = body
        super().__init__(f"{status} {self.code}: {self.message}")


class _Client:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        language: str = "ru",
        timeout: float = 30.0,
    ) -> None:
        headers = {"Accept-Language": language}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=100,  # httpx's own defaults, but for the keep-alive
                max_keepalive_connections=20,
                keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
            ),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any
    ) -> Any:
        response = await self._http.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {"code": "http_error", "message": response.text[:200]}
        if response.status_code not in ok:
            raise ApiError(response.status_code, body if isinstance(body, dict) else {})
        return body


async def catalog_page(
    client: _Client, path: str, since: int, store: str, limit: int
) -> dict[str, Any]:
    params: dict[str, Any] = {"since": since, "limit": limit}
    if store:
        params["store"] = store
    result: dict[str, Any] = await client._call("GET", path, params=params)
    return result


class AdminClient(_Client):
    async def create_tenant(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if tenant:
            body["tenant"] = tenant
        result: dict[str, Any] = await self._call("POST", "/api/v1/admin/tenants", json=body)
        return result

    # Tenants, devices, users and groups of the directory (admin API).

    async def tenants(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", "/api/v1/admin/tenants"))["tenants"]
        return result

    async def rotate_api_key(self, tenant: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", f"{_base(tenant)}/api-key")
        return result

    async def rotate_connection_code(self, tenant: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", f"{_base(tenant)}/connection-code")
        return result

    async def devices(self, tenant: str, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        body = await self._call("GET", f"{_base(tenant)}/devices", params=params)
        result: list[dict[str, Any]] = body["devices"]
        return result

    async def device(self, tenant: str, device_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", _device_path(tenant, device_id))
        return result

    async def update_device(
        self, tenant: str, device_id: str, *, name: str | None = None, mode: str | None = None
    ) -> dict[str, Any]:
        body = {k: v for k, v in (("name", name), ("mode", mode)) if v is not None}
        result: dict[str, Any] = await self._call(
            "PATCH", _device_path(tenant, device_id), json=body
        )
        return result

    async def block_device(self, tenant: str, device_id: str) -> dict[str, Any]:
        return await self._device_action(tenant, device_id, "block")

    async def unblock_device(self, tenant: str, device_id: str) -> dict[str, Any]:
        return await self._device_action(tenant, device_id, "unblock")

    async def retire_device(self, tenant: str, device_id: str) -> dict[str, Any]:
        return await self._device_action(tenant, device_id, "retire")

    async def replace_device(self, tenant: str, old_device: str, new_device: str) -> dict[str, Any]:
        """The new (paired) device takes over the old one's PIN and waiting documents."""
        result: dict[str, Any] = await self._call(
            "POST",
            f"{_device_path(tenant, old_device)}/replace",
            json={"new_device": new_device},
        )
        return result

    async def _device_action(self, tenant: str, device_id: str, action: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"{_device_path(tenant, device_id)}/{action}"
        )
        return result

    async def users(self, tenant: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", f"{_base(tenant)}/users"))["users"]
        return result

    async def create_user(
        self,
        tenant: str,
        login: str,
        *,
        name: str | None = None,
        password: str | None = None,
        barcode: str | None = None,
    ) -> dict[str, Any]:
        body = {"login": login, "name": name, "password": password, "barcode": barcode}
        result: dict[str, Any] = await self._call(
            "POST",
            f"{_base(tenant)}/users",
            json={k: v for k, v in body.items() if v is not None},
        )
        return result

    async def user(self, tenant: str, login: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", _user_path(tenant, login))
        return result

    async def update_user(self, tenant: str, login: str, **changes: str | None) -> dict[str, Any]:
        """Change ``name``, ``password`` or ``barcode`` (``barcode=None`` removes it)."""
        result: dict[str, Any] = await self._call("PATCH", _user_path(tenant, login), json=changes)
        return result

    async def delete_user(self, tenant: str, login: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", _user_path(tenant, login))
        return result

    async def groups(self, tenant: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", f"{_base(tenant)}/groups"))[
            "groups"
        ]
        return result

    async def create_group(self, tenant: str, group: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"{_base(tenant)}/groups", json={"group": group}
        )
        return result

    async def rename_group(self, tenant: str, group: str, new_name: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "PATCH", _group_path(tenant, group), json={"name": new_name}
        )
        return result

    async def delete_group(self, tenant: str, group: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", _group_path(tenant, group))
        return result

    async def add_member(self, tenant: str, group: str, login: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "PUT", f"{_group_path(tenant, group)}/members/{quote(login, safe='')}"
        )
        return result

    async def remove_member(self, tenant: str, group: str, login: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "DELETE", f"{_group_path(tenant, group)}/members/{quote(login, safe='')}"
        )
        return result

    # Business processes. ``tenant=None`` means the defaults every base starts with.

    async def processes(self, tenant: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", _processes_path(tenant)))[
            "processes"
        ]
        return result

    async def process(self, process_id: str, tenant: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", _process_path(tenant, process_id))
        return result

    async def put_process(
        self, process: dict[str, Any], tenant: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "PUT", _process_path(tenant, str(process["id"])), json=process
        )
        return result

    async def import_processes(
        self, text: str | bytes, tenant: str | None = None, *, media_type: str = "application/yaml"
    ) -> dict[str, Any]:
        """Import a process file (YAML or JSON, as exported): all of it or nothing."""
        result: dict[str, Any] = await self._call(
            "POST",
            f"{_processes_path(tenant)}:import",
            content=text.encode("utf-8") if isinstance(text, str) else text,
            headers={"Content-Type": media_type},
        )
        return result

    async def export_processes(self, tenant: str | None = None, fmt: str = "yaml") -> str:
        """The process file, as text to save or import again."""
        response = await self._http.get(f"{_processes_path(tenant)}:export", params={"format": fmt})
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {"code": "http_error", "message": response.text[:200]}
            raise ApiError(response.status_code, body if isinstance(body, dict) else {})
        return response.text

    async def enable_process(self, process_id: str, tenant: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"{_process_path(tenant, process_id)}/enable"
        )
        return result

    async def disable_process(self, process_id: str, tenant: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"{_process_path(tenant, process_id)}/disable"
        )
        return result

    async def delete_process(self, process_id: str, tenant: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", _process_path(tenant, process_id))
        return result

    async def find_documents(self, query: str) -> list[dict[str, Any]]:
        """Documents of every base whose accounting id, number or device PIN is ``query``."""
        found = await self._call("GET", "/api/v1/admin/documents", params={"q": query})
        result: list[dict[str, Any]] = found["documents"]
        return result

    async def document_journey(self, tenant: str, document_id: str) -> dict[str, Any]:
        path = f"{_base(tenant)}/documents/{quote(document_id, safe='')}"
        result: dict[str, Any] = await self._call("GET", path)
        return result


def _processes_path(tenant: str | None) -> str:
    return f"{_base(tenant)}/processes" if tenant else "/api/v1/admin/processes"


def _process_path(tenant: str | None, process_id: str) -> str:
    return f"{_processes_path(tenant)}/{quote(process_id, safe='')}"


def _base(tenant: str) -> str:
    return f"/api/v1/admin/tenants/{quote(tenant, safe='')}"


def _device_path(tenant: str, device_id: str) -> str:
    return f"{_base(tenant)}/devices/{quote(device_id, safe='')}"


def _user_path(tenant: str, login: str) -> str:
    return f"{_base(tenant)}/users/{quote(login, safe='')}"


def _group_path(tenant: str, group: str) -> str:
    return f"{_base(tenant)}/groups/{quote(group, safe='')}"


class AccountingClient(_Client):
    async def upload(self, body: dict[str, Any]) -> dict[str, Any]:
        """The upload's answer; a refusal (422) is an answer too, not an error."""
        result: dict[str, Any] = await self._call(
            "POST", "/api/v1/uploads", json=body, ok=(200, 202, 422)
        )
        return result

    async def upload_catalog(self, body: dict[str, Any] | bytes) -> dict[str, Any]:
        """The catalog upload's answer: 200 applied, or 422 with every wrong item (also an
        answer, not an error). ``body`` is the native shape or a 1C export's bytes."""
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        result: dict[str, Any] = await self._call(
            "POST",
            "/api/v1/catalog",
            content=content,
            headers={"Content-Type": "application/json"},
            ok=(200, 422),
        )
        return result

    async def catalogs(self) -> list[dict[str, Any]]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/catalog")
        catalogs: list[dict[str, Any]] = result["catalogs"]
        return catalogs

    async def upload_status(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET", f"/api/v1/uploads/{request_id}", ok=(200, 202, 422)
        )
        return result

    async def devices(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", "/api/v1/devices"))["devices"]
        return result

    async def results(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", "/api/v1/results"))["results"]
        return result

    async def result(self, document_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/results/{document_id}")
        return result

    async def document(self, document_id: str) -> dict[str, Any]:
        """The document's state and every step it took (its journey)."""
        path = f"/api/v1/documents/{quote(document_id, safe='')}"
        result: dict[str, Any] = await self._call("GET", path)
        return result

    async def mark_loaded(self, document_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", f"/api/v1/results/{document_id}/loaded")
        return result

    async def set_webhook(self, url: str, *, rotate_secret: bool = False) -> dict[str, Any]:
        """Set the base's webhook; the answer holds the signing secret when one is issued."""
        result: dict[str, Any] = await self._call(
            "PUT", "/api/v1/settings/webhook", json={"url": url, "rotate_secret": rotate_secret}
        )
        return result

    async def webhook(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/settings/webhook")
        return result

    async def delete_webhook(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", "/api/v1/settings/webhook")
        return result

    async def webhook_deliveries(self, state: str | None = None) -> list[dict[str, Any]]:
        params = {"state": state} if state else {}
        body = await self._call("GET", "/api/v1/settings/webhook/deliveries", params=params)
        result: list[dict[str, Any]] = body["deliveries"]
        return result

    async def processes(self) -> list[dict[str, Any]]:
        """The business processes this base can upload with (its own over the defaults)."""
        result: list[dict[str, Any]] = (await self._call("GET", "/api/v1/processes"))["processes"]
        return result

    async def process(self, process_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET", f"/api/v1/processes/{quote(process_id, safe='')}"
        )
        return result


class TerminalClient(_Client):
    """A terminal's side. Pair first; the credential is kept for the calls after."""

    device: dict[str, Any]

    async def pair(
        self,
        connection_code: str,
        hardware_id: str,
        model: str = "",
        name: str = "",
        mode: str = "online",
    ) -> dict[str, Any]:
        self.device = await self._call(
            "POST",
            "/api/v1/terminal/pair",
            json={
                "connection_code": connection_code,
                "hardware_id": hardware_id,
                "model": model,
                "name": name,
                "mode": mode,
            },
        )
        self._http.headers["Authorization"] = f"Bearer {self.device['credential']}"
        return self.device

    async def me(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/terminal/me")
        return result

    async def catalog(self, since: int = 0, store: str = "", limit: int = 5000) -> dict[str, Any]:
        """One page of catalog changes after ``since`` (docs/catalog.md)."""
        return await catalog_page(self, "/api/v1/terminal/catalog", since, store, limit)

    async def inbox(self, wait: float = 0, known: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET",
            "/api/v1/terminal/inbox",
            params={"wait": wait, "known": known},
            timeout=wait + 30,
        )
        return result

    async def download(self, delivery_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET", f"/api/v1/terminal/documents/{delivery_id}"
        )
        return result

    async def acknowledge(self, delivery_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/terminal/documents/{delivery_id}/ack"
        )
        return result

    async def send_result(
        self, delivery_id: str, result_id: str, lines: list[dict[str, Any]], *, final: bool
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST",
            f"/api/v1/terminal/documents/{delivery_id}/results",
            json={"result_id": result_id, "final": final, "lines": lines},
        )
        return result

    async def result_status(self, delivery_id: str, result_id: str) -> dict[str, Any]:
        """What became of a sent result: ``received``, or ``refused`` with code and message."""
        result: dict[str, Any] = await self._call(
            "GET", f"/api/v1/terminal/documents/{delivery_id}/results/{result_id}"
        )
        return result


class LanClient(_Client):
    """A terminal on the local network, for one user. Log in first; the token is kept."""

    session: dict[str, Any]

    async def login(
        self,
        tenant: str,
        login: str | None = None,
        password: str | None = None,
        *,
        barcode: str | None = None,
        device_id: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "tenant": tenant,
            "login": login,
            "password": password,
            "barcode": barcode,
            "device_id": device_id,
        }
        self.session = await self._call(
            "POST",
            "/api/v1/lan/login",
            json={k: v for k, v in body.items() if v is not None},
        )
        self._http.headers["Authorization"] = f"Bearer {self.session['token']}"
        return self.session

    async def logout(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/api/v1/lan/logout")
        return result

    async def me(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/v1/lan/me")
        return result

    async def catalog(self, since: int = 0, store: str = "", limit: int = 5000) -> dict[str, Any]:
        """One page of catalog changes after ``since`` (docs/catalog.md)."""
        return await catalog_page(self, "/api/v1/lan/catalog", since, store, limit)

    async def documents(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._call("GET", "/api/v1/lan/documents"))[
            "documents"
        ]
        return result

    async def document(self, delivery_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v1/lan/documents/{delivery_id}")
        return result

    async def take(self, delivery_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/lan/documents/{delivery_id}/take"
        )
        return result

    async def release(self, delivery_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", f"/api/v1/lan/documents/{delivery_id}/release"
        )
        return result

    async def send_result(
        self, delivery_id: str, result_id: str, lines: list[dict[str, Any]], *, final: bool
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST",
            f"/api/v1/lan/documents/{delivery_id}/results",
            json={"result_id": result_id, "final": final, "lines": lines},
        )
        return result


class LanAdminClient(_Client):
    """An operator looking after the LAN base (admin token)."""

    async def documents(self, tenant: str, *states: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"tenant": tenant, "state": list(states)}
        result: list[dict[str, Any]] = (
            await self._call("GET", "/api/v1/lan/admin/documents", params=params)
        )["documents"]
        return result

    async def locks(self, tenant: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (
            await self._call("GET", "/api/v1/lan/admin/locks", params={"tenant": tenant})
        )["locks"]
        return result

    async def document(self, delivery_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET", f"/api/v1/lan/admin/documents/{delivery_id}"
        )
        return result

    async def force_release(self, delivery_id: str, reason: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST",
            f"/api/v1/lan/admin/documents/{delivery_id}/release",
            json={"reason": reason},
        )
        return result

    async def reassign(self, delivery_id: str, target: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST",
            f"/api/v1/lan/admin/documents/{delivery_id}/reassign",
            json={"target": target},
        )
        return result
