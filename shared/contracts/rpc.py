"""RPC: the request on the wire, and how a serving service declares its methods once.

A method is declared once, in the contracts module of the service that serves it
(``registry_rpc``, ``routing_rpc``): its name, the model of its parameters and the type of its
result. The server registers a handler against the declaration and callers call it with typed
parameters (``shared.messaging.rpc``), so neither side spells the name or the fields again.
The reply is plain JSON, see ``shared.messaging.rpc``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.contracts.envelope import Payload, message
from shared.errors import Refusal, describe
from shared.messaging.topology import WorkQueue


@message
class RpcRequest(Payload):
    TYPE = "rpc.request"

    method: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)


def params_refused(exc: ValidationError) -> Refusal:
    """Parameters that fail their model: the refusal both sides of the wire give."""
    return Refusal("validation_error", 422, details=describe(exc, root="params"))


class Params(BaseModel):
    """Base of an RPC method's parameters: unknown names refused, text trimmed.

    Parameters that fail their model refuse the call with ``validation_error``, whether the
    caller builds them or the server reads them off the wire, so a caller's own check answers
    exactly as the server would have."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise params_refused(exc) from None


class NoParams(Params):
    pass


P = TypeVar("P", bound=Params)
R = TypeVar("R")

# A stored document as the serving service shows it (its own typed record is its business).
Record = dict[str, Any]
RECORD: TypeAdapter[Record] = TypeAdapter(Record)
RECORD_OR_NONE: TypeAdapter[Record | None] = TypeAdapter(Record | None)
RECORDS: TypeAdapter[list[Record]] = TypeAdapter(list[Record])
NAMES: TypeAdapter[list[str]] = TypeAdapter(list[str])


@dataclass(frozen=True, eq=False)
class RpcMethod(Generic[P, R]):
    """One method of a serving service: where it is asked, its name, parameters and result."""

    queue: WorkQueue
    name: str
    params: type[P]
    result: TypeAdapter[R]

    def read_params(self, values: dict[str, Any]) -> P:
        """The parameters off the wire, or the refusal saying which and why."""
        try:
            return self.params.model_validate(values)
        except ValidationError as exc:
            raise params_refused(exc) from None


class RpcService:
    """The methods one service serves on its RPC queue, in the order they are declared."""

    def __init__(self, queue: WorkQueue) -> None:
        self.queue = queue
        self._methods: dict[str, RpcMethod[Any, Any]] = {}

    def method(self, name: str, params: type[P], result: TypeAdapter[R]) -> RpcMethod[P, R]:
        if name in self._methods:
            raise ValueError(f"{self.queue.name}: {name} declared twice")
        declared = RpcMethod(self.queue, name, params, result)
        self._methods[name] = declared
        return declared

    def __iter__(self) -> Iterator[RpcMethod[Any, Any]]:
        return iter(self._methods.values())

    def get(self, name: str) -> RpcMethod[Any, Any] | None:
        return self._methods.get(name)


@dataclass(frozen=True)
class Call(Generic[P]):
    """What a method's handler receives: its parameters and the envelope's tenant."""

    params: P
    tenant: str | None

    @property
    def base(self) -> str:
        """The base a tenant-scoped method acts for: taken from the envelope, never from the
        parameters, so a caller acting for one base cannot name another."""
        if not self.tenant:
            raise Refusal("validation_error", 422, details="tenant: required")
        return self.tenant
