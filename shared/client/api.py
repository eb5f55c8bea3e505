"""Thin async clients of the gateway: one class per audience, one method per endpoint."""

from __future__ import annotations

from typing import Any

import httpx


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
        self._http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)

    async def __aenter__(self) -> _Client:
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


class AdminClient(_Client):
    async def create_tenant(self, name: str, tenant: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if tenant:
            body["tenant"] = tenant
        result: dict[str, Any] = await self._call("POST", "/api/v1/admin/tenants", json=body)
        return result


class AccountingClient(_Client):
    async def upload(self, body: dict[str, Any]) -> dict[str, Any]:
        """The upload's answer; a refusal (422) is an answer too, not an error."""
        result: dict[str, Any] = await self._call(
            "POST", "/api/v1/uploads", json=body, ok=(200, 202, 422)
        )
        return result

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

    async def mark_loaded(self, document_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", f"/api/v1/results/{document_id}/loaded")
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
