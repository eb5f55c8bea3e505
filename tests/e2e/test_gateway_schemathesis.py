"""The gateway's OpenAPI schema, served live, fuzzed by schemathesis: no input, valid or not,
makes any operation of the accounting or the terminal API answer with a 5xx.

Requests carry a real API key or device credential so they go past authentication. The stack
of this module waits briefly for routing and for long polls, and does not limit the rate, so
the generated requests exercise the endpoints rather than the limits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, BaseSchema, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.support.stack import ADMIN_TOKEN, running_stack
from tools.cli.stack import Stack

EXAMPLES = 15


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("schemathesis"),
        services=("registry", "routing", "gateway"),
        extra_env={
            "TSDX_UPLOAD_WAIT_SECONDS": "0.5",
            "TSDX_LONG_POLL_MAX_SECONDS": "0.2",
            "TSDX_RATE_LIMIT_PER_SECOND": "10000",
            "TSDX_RATE_LIMIT_BURST": "10000",
            "TSDX_PIN_MISSES_PER_MINUTE": "10000",
        },
    ) as s:
        yield s


@pytest.fixture(scope="module")
def credentials(fuzz_stack: Stack) -> dict[str, str]:
    """A base's API key and one paired device's credential."""
    gateway = fuzz_stack.url("gateway")
    tenant = httpx.post(
        f"{gateway}/api/v1/admin/tenants",
        json={"name": f"Склад {uuid.uuid4().hex[:6]}"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()
    device = httpx.post(
        f"{gateway}/api/v1/terminal/pair",
        json={"connection_code": tenant["connection_code"], "hardware_id": "@HW-fuzz"},
    ).json()
    return {"api_key": tenant["api_key"], "credential": device["credential"]}


@pytest.fixture(scope="module")
def gateway_schema(fuzz_stack: Stack) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_stack.url('gateway')}/openapi.json")


# Per operation and per kind of data (valid, invalid): bounded to keep the run near a minute.
hypothesis_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def fuzz(schema: BaseSchema, mode: GenerationMode, token: str) -> dict[str, set[int]]:
    """Send generated requests to every operation of ``schema``: the statuses of each."""
    statuses: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        statuses[operation.label] = fuzz_one(operation, mode, token)
    return statuses


def fuzz_one(
    operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode, token: str
) -> set[int]:
    seen: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings
    def call(case: schemathesis.Case[Any]) -> None:
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error],
            timeout=30,
        )
        seen.add(response.status_code)

    call()
    return seen


def past_authentication(statuses: dict[str, set[int]]) -> list[str]:
    """Operations that answered something other than 401: the credential was taken."""
    return sorted(label for label, seen in statuses.items() if seen - {401})


def test_the_schema_and_its_page_are_served(fuzz_stack: Stack) -> None:
    document = httpx.get(f"{fuzz_stack.url('gateway')}/openapi.json").json()
    paths = set(document["paths"])
    assert {
        "/api/v1/uploads",
        "/api/v1/uploads/{request_id}",
        "/api/v1/devices",
        "/api/v1/results",
        "/api/v1/results/{document_id}",
        "/api/v1/results/{document_id}/loaded",
        "/api/v1/settings/webhook",
        "/api/v1/settings/webhook/deliveries",
        "/api/v1/settings/barcodes",
        "/api/v1/terminal/pair",
        "/api/v1/terminal/me",
        "/api/v1/terminal/inbox",
        "/api/v1/terminal/documents/{delivery_id}",
        "/api/v1/terminal/documents/{delivery_id}/ack",
        "/api/v1/terminal/documents/{delivery_id}/results",
        "/api/v1/terminal/documents/{delivery_id}/results/{result_id}",
        "/api/v1/catalog",
        "/api/v1/terminal/catalog",
        "/api/v1/terminal/processes",
        "/api/v1/terminal/created",
        "/api/v1/terminal/created/{document_id}/results/{result_id}",
    } <= paths
    page = httpx.get(f"{fuzz_stack.url('gateway')}/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_accounting_api_never_fails_on_any_input(
    gateway_schema: BaseSchema, credentials: dict[str, str], mode: GenerationMode
) -> None:
    accounting = gateway_schema.include(
        path_regex=r"^/api/v1/(uploads|devices|results|settings|catalog)"
    )
    statuses = fuzz(accounting, mode, credentials["api_key"])
    assert len(statuses) == 14
    assert past_authentication(statuses) == sorted(statuses)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_terminal_api_never_fails_on_any_input(
    gateway_schema: BaseSchema, credentials: dict[str, str], mode: GenerationMode
) -> None:
    terminal = gateway_schema.include(path_regex=r"^/api/v1/terminal/")
    statuses = fuzz(terminal, mode, credentials["credential"])
    assert len(statuses) == 12  # the batched acknowledgement too
    assert past_authentication(statuses) == sorted(statuses)
