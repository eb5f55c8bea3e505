"""The request of the RPC pattern (the reply is plain JSON, see shared.messaging.rpc)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.contracts.envelope import Payload, message


@message
class RpcRequest(Payload):
    TYPE = "rpc.request"

    method: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)
