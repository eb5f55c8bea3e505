"""A stack of this package's own, for what the shared one cannot show: a small message size
limit (so a message over it need not be 32 MiB), and webhooks to a receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import running_stack
from tools.cli.stack import Stack

MESSAGE_LIMIT = 256 * 1024


@pytest.fixture(scope="package")
def guarded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("guarded"),
        extra_env={
            "TSDX_MAX_MESSAGE_BYTES": str(MESSAGE_LIMIT),
            "TSDX_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true",
            # The receivers of these tests listen on 127.0.0.1: allowed here, as an operator
            # would allow an on-site network.
            "TSDX_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        },
    ) as s:
        yield s
