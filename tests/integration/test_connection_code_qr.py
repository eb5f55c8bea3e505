"""``tsdx tenant create`` and ``tsdx tenant rotate-code`` show the connection code also as a
QR code (block characters) that holds exactly that code, which pairs a terminal."""

from __future__ import annotations

import re
import uuid

from shared.cli.admin import EXIT_OK
from shared.cli.stack import Stack
from shared.qr import matrix_of, modules_of
from tests.integration.test_registry_cli import Cli, cli, pair

__all__ = ["cli"]  # fixture used here

_BLOCKS = re.compile(r"^[█▀▄ ]+$")


def _code_and_drawing(out: str, label: str) -> tuple[str, str]:
    found = re.search(rf"{label}\s*(\S+)", out)
    assert found is not None, out
    drawing = "\n".join(line for line in out.splitlines() if _BLOCKS.match(line))
    return found.group(1), drawing


async def test_the_printed_qr_code_holds_the_connection_code_that_pairs(
    cli: Cli, stack: Stack
) -> None:
    tenant_id = f"qr-{uuid.uuid4().hex[:6]}"
    status, out, _ = await cli.run(
        "tenant", "create", "Склад с QR", "--id", tenant_id, "--lang", "en"
    )
    assert status == EXIT_OK
    code, drawing = _code_and_drawing(out, "Connection code:")
    assert modules_of(drawing)[: len(matrix_of(code))] == matrix_of(code)
    async with await pair(stack, code) as terminal:
        assert (await terminal.me())["tenant"] == tenant_id

    status, out, _ = await cli.run("tenant", "rotate-code", tenant_id, "--lang", "en")
    assert status == EXIT_OK
    new_code, drawing = _code_and_drawing(out, f"New connection code of {tenant_id}:")
    assert new_code != code
    assert modules_of(drawing)[: len(matrix_of(new_code))] == matrix_of(new_code)


async def test_json_output_stays_plain_json(cli: Cli) -> None:
    created = await cli.json(
        "tenant", "create", "Склад без QR", "--id", f"qr-{uuid.uuid4().hex[:6]}"
    )
    assert set(created) == {"tenant", "name", "api_key", "connection_code"}
