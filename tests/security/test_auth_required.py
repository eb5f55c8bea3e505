"""Every operation of every HTTP API refuses a caller without the right credential.

The operations are read from the OpenAPI schema each service serves, so a new endpoint is
covered the day it is added. Each is called without credentials, with a garbage token, a
bearer without a token, the right credential under the wrong scheme, and every credential of
another kind (an API key, a device credential, the admin token, a LAN session), with real
ids in its path; each answer must be 401/403 with a stable code, and nothing may have
changed afterwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from shared.i18n import MESSAGES
from tests.security.helpers import delivered, paired
from tests.support.documents import order
from tests.support.stack import ADMIN_TOKEN
from tools.cli.stack import Stack
from tools.client import AccountingClient, AdminClient, TerminalClient
from tools.client.api import LanClient

METHODS = ("get", "put", "post", "delete", "patch")

# Operations in the schemas that anyone may call, and why.
PUBLIC: dict[tuple[str, str, str], str] = {
    ("gateway", "POST", "/api/v1/terminal/pair"): (
        "a terminal has no credential before pairing; the connection code in the body is "
        "what it proves, and a wrong one pairs nothing"
    ),
    ("lan_writer", "POST", "/api/v1/lan/login"): (
        "a LAN user has no session before logging in; login and password (or badge) in the "
        "body are checked by the registry"
    ),
}

# Addresses outside the schemas that anyone may call, and why: on every service ...
EVERY_SERVICE_PUBLIC: dict[str, str] = {
    "/healthz": "liveness probe of the orchestrator",
    "/readyz": "readiness probe of the orchestrator",
    "/metrics": "scraped by Prometheus on the operators' network",
    "/openapi.json": "the API's description, for 1C developers and adapters",
}
# ... and on some.
PUBLIC_PAGES: dict[tuple[str, str], str] = {
    ("gateway", "/docs"): "the API's description as a page",
    ("gateway", "/redoc"): "the API's description as a page",
    ("gateway", "/docs-assets/swagger-ui-bundle.js"): "the description pages' script",
    ("lan_writer", "/docs"): "the API's description as a page",
    ("dashboard", "/docs"): "the API's description as a page",
    ("dashboard", "/"): "the operator's page (it asks for the admin token before any figure)",
    ("dashboard", "/static/dashboard.js"): "the page's script",
}

# Whose credential each part of the APIs takes (first matching prefix).
AUDIENCES = (
    ("/api/v1/admin/", "admin"),
    ("/api/v1/terminal/", "device"),
    ("/api/v1/lan/admin/", "admin"),
    ("/api/v1/lan/", "lan_session"),
    ("/api/v1/dashboard/", "admin"),
    ("/api/v1/", "api_key"),
)


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.service, self.method, self.path

    @property
    def audience(self) -> str:
        return next(kind for prefix, kind in AUDIENCES if self.path.startswith(prefix))


def operations(stack: Stack) -> list[Operation]:
    found = []
    for service in stack.services:
        response = httpx.get(f"{stack.url(service)}/openapi.json")
        assert response.status_code == 200, (service, response.status_code)
        for path, item in response.json()["paths"].items():
            for method, spec in item.items():
                if method in METHODS:
                    found.append(Operation(service, method.upper(), path, spec))
    return found


def test_the_public_operations_are_exactly_those_listed(stack: Stack) -> None:
    ops = operations(stack)
    by_key = {op.key: op for op in ops}
    # Listed ones exist, and the schemas declare a credential for every other operation.
    assert set(PUBLIC) <= set(by_key), set(PUBLIC) - set(by_key)
    undeclared = {op.key for op in ops if not op.spec.get("security")}
    assert undeclared == set(PUBLIC)
    # Every other operation belongs to exactly one audience.
    for op in ops:
        assert any(op.path.startswith(prefix) for prefix, _ in AUDIENCES), op.key
    unlisted = [(s, path) for s in stack.services for path in EVERY_SERVICE_PUBLIC]
    for service, path in [*unlisted, *PUBLIC_PAGES]:
        response = httpx.get(f"{stack.url(service)}{path}")
        assert response.status_code == 200, (service, path, response.status_code)


async def _credentials(stack: Stack, admin: AdminClient, tenant: dict[str, str]) -> dict[str, Any]:
    """One credential of every kind, and real ids for the paths."""
    base = tenant["tenant"]
    login, group = f"user{uuid.uuid4().hex[:6]}", "Кладовщики"
    await admin.create_user(base, login, password="пароль-1")
    await admin.create_group(base, group)
    await admin.add_member(base, group, login)
    lan = LanClient(stack.url("lan_writer"))
    session = await lan.login(base, login, "пароль-1")
    await lan.close()
    return {"login": login, "group": group, "lan_token": session["token"]}


async def test_every_other_operation_refuses_a_caller_without_the_right_credential(
    stack: Stack, admin: AdminClient, tenant: dict[str, str], accounting: AccountingClient
) -> None:
    people = await _credentials(stack, admin, tenant)
    async with paired(stack, tenant) as terminal:
        document = order()
        answer = await delivered(accounting, terminal, document)
        delivery_id = answer["deliveries"][0]["delivery_id"]
        values = {
            "tenant": tenant["tenant"],
            "device_id": terminal.device["device_id"],
            "login": people["login"],
            "group": people["group"],
            "process_id": "purchase-receipt",
            "delivery_id": delivery_id,
            "document_id": document["header"]["id"],
            "request_id": answer["request_id"],
            "result_id": uuid.uuid4().hex,
            "q": document["header"]["number"],  # the document search's query
        }
        tokens = {
            "api_key": tenant["api_key"],
            "device": terminal.device["credential"],
            "admin": ADMIN_TOKEN,
            "lan_session": people["lan_token"],
        }
        failures = await _call_all(stack, values, tokens)
        assert failures == [], "\n".join(failures)
        await _nothing_changed(stack, admin, tenant, accounting, terminal, values, people)


async def _call_all(stack: Stack, values: dict[str, str], tokens: dict[str, str]) -> list[str]:
    failures = []
    calls = 0
    async with httpx.AsyncClient(timeout=30) as http:
        for op in operations(stack):
            if op.key in PUBLIC:
                continue
            url, params = _address(stack, op, values)
            body: dict[str, Any] | None = {} if "requestBody" in op.spec else None
            cases: dict[str, dict[str, str]] = {
                "no credentials": {},
                "garbage token": {"Authorization": "Bearer not-a-credential"},
                "bearer without a token": {"Authorization": "Bearer"},
                "basic scheme": {"Authorization": f"Basic {tokens[op.audience]}"},
            }
            for kind, token in tokens.items():
                if kind != op.audience:
                    cases[f"{kind} instead of {op.audience}"] = {"Authorization": f"Bearer {token}"}
            for case, headers in cases.items():
                response = await http.request(
                    op.method, url, params=params, headers=headers, json=body
                )
                calls += 1
                problem = _problem(response)
                if problem:
                    failures.append(f"{op.service} {op.method} {op.path} [{case}]: {problem}")
    assert calls > 300  # every service's schema was read
    return failures


def _address(stack: Stack, op: Operation, values: dict[str, str]) -> tuple[str, dict[str, str]]:
    path = op.path
    params = {}
    for parameter in op.spec.get("parameters", []):
        name = parameter["name"]
        assert name in values or parameter["in"] == "query", f"no value for {name} in {op.key}"
        if parameter["in"] == "path":
            path = path.replace(f"{{{name}}}", values[name])
        elif parameter.get("required"):
            params[name] = values[name]
    return f"{stack.url(op.service)}{path}", params


def _problem(response: httpx.Response) -> str | None:
    """What is wrong with a refusal, or None when it is a proper one."""
    if response.status_code not in (401, 403):
        return f"status {response.status_code}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]}"
    if body.get("code") not in MESSAGES or not body.get("message"):
        return f"no stable code and message: {body}"
    return None


async def _nothing_changed(
    stack: Stack,
    admin: AdminClient,
    tenant: dict[str, str],
    accounting: AccountingClient,
    terminal: TerminalClient,
    values: dict[str, str],
    people: dict[str, Any],
) -> None:
    base = tenant["tenant"]
    # The API key was not rotated, the device is still let in, its copy still waits.
    assert [d["device_id"] for d in await accounting.devices()] == [values["device_id"]]
    assert (await terminal.me())["device_id"] == values["device_id"]
    [waiting] = (await terminal.inbox())["documents"]
    assert (waiting["delivery_id"], waiting["state"]) == (values["delivery_id"], "waiting")
    assert await accounting.results() == []
    assert (await accounting.webhook())["configured"] is False
    # Users, groups and processes are as they were; the LAN session still works.
    assert [u["login"] for u in await admin.users(base)] == [values["login"]]
    [group] = await admin.groups(base)
    assert (group["group"], group["members"]) == (values["group"], [values["login"]])
    receipt = await admin.process("purchase-receipt", base)
    assert (receipt["scope"], receipt["enabled"]) == ("default", True)
    async with LanClient(stack.url("lan_writer"), people["lan_token"]) as lan:
        assert (await lan.me())["login"] == values["login"]
