"""RPC: how a serving service declares its methods once, and the request on the wire.

**Declare** a method in the contracts module of the service that serves it (``registry_rpc``,
``routing_rpc``, ``gateway_rpc``): one line in the service's class, naming the method on the
wire, the model of its parameters (a :class:`Params`) and its result (``one(Model)``,
``many(Model)`` or ``maybe(Model)``, the model a :class:`Result` with exactly the fields of the
answer)::

    class Registry(RpcService, queue=REGISTRY_RPC):
        get_device = RpcMethod("device.get", ByDevice, maybe(DeviceView))

**Serve** it: ``RpcHandlers(Registry).on(Registry.get_device, handler)``
(``shared.messaging.rpc``); the handler takes a :class:`Call` with the typed parameters, and
its answer is read into the declared result before it leaves.

**Call** it: the service's class is its own typed client. ``Registry(rpc, tenant)`` holds the
caller (an ``RpcClient``, or ``shared.http.HttpCaller(rpc)`` in an HTTP handler) and the base
it acts for; ``await Registry(rpc, tenant).get_device(ByDevice(device_id=...))`` is a
``DeviceView | None``, and mypy checks the parameters' model. The reply is plain JSON, see
``shared.messaging.rpc``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.contracts.envelope import Payload, message
from shared.errors import Refusal, carried, describe
from shared.messaging.topology import WorkQueue


@message
class RpcRequest(Payload):
    TYPE = "rpc.request"

    method: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)


def params_refused(exc: ValidationError) -> Refusal:
    """Parameters that fail their model: the refusal both sides of the wire give."""
    problems = carried(exc, root="params")
    return Refusal("validation_error", 422, details=describe(problems), problems=problems)


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


class Result(BaseModel):
    """Base of an RPC method's result: exactly the fields of the answer, as the server gives
    them (no trimming, nothing unknown), so the JSON the caller passes on is the server's."""

    model_config = ConfigDict(extra="forbid")


P = TypeVar("P", bound=Params)
R = TypeVar("R")
T = TypeVar("T")


def one(model: type[T]) -> TypeAdapter[T]:
    """A result that is one ``model``."""
    return TypeAdapter(model)


def many(model: type[T]) -> TypeAdapter[list[T]]:
    """A result that is a list of ``model``."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def maybe(model: type[T]) -> TypeAdapter[T | None]:
    """A result that is one ``model`` or nothing (null)."""
    return TypeAdapter(model | None)  # type: ignore[arg-type]


class Caller(Protocol):
    """What asks a method: an ``RpcClient``, or ``shared.http.HttpCaller`` around one (in an
    HTTP handler)."""

    async def call(self, method: RpcMethod[P, R], params: P, tenant: str | None = None) -> R: ...


class RpcMethod(Generic[P, R]):
    """One method of a serving service: its name on the wire, parameters and result.

    Read off the service's class it is the declaration (for the server's registration); read
    off a client (an instance of the class) it is the method itself, ready to be asked."""

    service: type[RpcService]  # set when the service's class is made

    def __init__(self, name: str, params: type[P], result: TypeAdapter[R]) -> None:
        self.name = name
        self.params = params
        self.result = result

    @property
    def queue(self) -> WorkQueue:
        return self.service.queue

    def read_params(self, values: dict[str, Any]) -> P:
        """The parameters off the wire, or the refusal saying which and why."""
        try:
            return self.params.model_validate(values)
        except ValidationError as exc:
            raise params_refused(exc) from None

    @overload
    def __get__(self, client: None, owner: type[RpcService]) -> RpcMethod[P, R]: ...

    @overload
    def __get__(self, client: RpcService, owner: type[RpcService]) -> Asked[P, R]: ...

    def __get__(
        self, client: RpcService | None, owner: type[RpcService]
    ) -> RpcMethod[P, R] | Asked[P, R]:
        return self if client is None else Asked(self, client)


@dataclass(frozen=True)
class Asked(Generic[P, R]):
    """A declared method read off a client: calling it asks the service for the client's base."""

    method: RpcMethod[P, R]
    client: RpcService

    def __call__(self, params: P) -> Awaitable[R]:
        return self.client.caller.call(self.method, params, self.client.tenant)


class RpcService:
    """The methods one service serves on its RPC queue (its class attributes, in the order they
    are declared); an instance is the typed client of them, for one base or none."""

    queue: ClassVar[WorkQueue]
    methods: ClassVar[dict[str, RpcMethod[Any, Any]]]

    def __init_subclass__(cls, *, queue: WorkQueue, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.queue = queue
        cls.methods = {}
        for declared in vars(cls).values():
            if not isinstance(declared, RpcMethod):
                continue
            if declared.name in cls.methods:
                raise ValueError(f"{queue.name}: {declared.name} declared twice")
            declared.service = cls
            cls.methods[declared.name] = declared

    def __init__(self, caller: Caller, tenant: str | None = None) -> None:
        self.caller = caller
        self.tenant = tenant


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
