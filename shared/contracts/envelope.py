"""The envelope every AMQP message travels in, and the registry of message types.

A message's body is the JSON of an :class:`Envelope`; its ``payload`` validates against the
model registered for its ``type`` and ``version``. Unknown types and versions are refused,
so a consumer never guesses at a message it does not understand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.contracts.absent import NullMeansAbsent
from shared.errors import describe
from shared.ids import time_ordered_id
from shared.jsonexact import NotJSON, has_fraction, loads_exact, loads_plain
from shared.logging import current_correlation_id


class Payload(NullMeansAbsent):
    """Base of every message body. Subclasses set TYPE and VERSION and register themselves."""

    model_config = ConfigDict(extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def routing_key(self) -> str:
        return self.TYPE

    def as_json(self) -> dict[str, Any]:
        """The payload as the message carries it (a payload carrying JSON it checked before
        writes that as it is)."""
        return self.model_dump(mode="json")

    def ordering_key(self) -> str | None:
        """Messages with the same key are applied one after another, in arrival order."""
        return None

    def ordering_keys(self) -> tuple[str, ...]:
        """All the keys a message is ordered by: its one key, or (a message about several
        things, e.g. copies) each of theirs. A message with several waits for every earlier
        message sharing any of them."""
        key = self.ordering_key()
        return () if key is None else (key,)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=time_ordered_id, min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant: str | None = Field(default=None, max_length=64)
    correlation_id: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any]


class MalformedMessage(ValueError):
    """The message cannot be understood; it is parked with this reason, never retried."""


_REGISTRY: dict[tuple[str, int], type[Payload]] = {}

# The validation context key :func:`decode` sets when orjson read the body: no number with a
# fraction stands where the payload is validated (a view may then skip looking for one).
READ_PLAINLY = "read_plainly"

P = TypeVar("P", bound=type[Payload])


def message(cls: P) -> P:
    """Class decorator: register a payload model under its TYPE and VERSION."""
    key = (cls.TYPE, cls.VERSION)
    if key in _REGISTRY:
        raise ValueError(f"message type {key} registered twice")
    _REGISTRY[key] = cls
    return cls


def registered_types() -> dict[tuple[str, int], type[Payload]]:
    return dict(_REGISTRY)


def wrap(payload: Payload, tenant: str | None, correlation_id: str | None = None) -> Envelope:
    return wrap_json(type(payload), payload.as_json(), tenant, correlation_id)


def wrap_json(
    kind: type[Payload], body: dict[str, Any], tenant: str | None, correlation_id: str | None = None
) -> Envelope:
    """An envelope for a payload of ``kind`` given as its JSON already: for a sender that
    builds a large payload from data it checked before (``kind``'s own model would only take
    it apart and dump it again). The receiver validates it against ``kind`` as any other."""
    return Envelope(
        type=kind.TYPE,
        version=kind.VERSION,
        tenant=tenant,
        correlation_id=correlation_id or current_correlation_id(),
        payload=body,
    )


def as_json(envelope: Envelope) -> dict[str, Any]:
    """The envelope as JSON values. Its payload is JSON already (from :func:`wrap` or from a
    body) and is taken as it is: a large document is not copied once more."""
    return {**envelope.model_dump(mode="json", exclude={"payload"}), "payload": envelope.payload}


def encode(envelope: Envelope) -> bytes:
    return orjson.dumps(as_json(envelope))


def decode(
    body: bytes, views: Mapping[tuple[str, int], type[Payload]] | None = None
) -> tuple[Envelope, Payload]:
    """Parse and validate a message body, or raise :class:`MalformedMessage` saying why.

    ``views``: models a consumer reads some messages by instead of their registered one, by
    type and version: a view that declares only the fields it uses (and ignores the others)
    spares validating what it never reads, such as a routed message's documents.

    The envelope comes back with an empty ``payload``: the validated payload model is the one
    copy of it kept while the message is handled (a document of 10,000 lines would otherwise
    be held twice, once as parsed JSON).

    Quantities sent as JSON numbers are read exactly (``loads_exact``). tsdx's own messages
    carry them as strings, so the body is read by orjson first, several times faster: that
    reading is used when no number with a fraction stands where the message is validated (the
    envelope's fields and the payload's, or a view's fields only). Otherwise, and for every
    message refused, the exact reading decides, so a message reads and is refused as before,
    with one exception: the readers' nesting limits differ (orjson's 1,024 levels; the exact
    reader's about 1,000 less the caller's depth). Where the deep part is validated, nothing
    changes (free-form objects take 32 levels, so validation refuses it and the exact reading
    gives the refusal, "nested too deeply"); but a body nested between the two limits only in
    what a view ignores is read by that view, as a view reads anything else it ignores.
    Refusing it would take a walk of the whole body: for a routed message of 50 documents of
    20 lines read by the registry's view, about 1.3 ms on top of the 2.1 ms its reading costs.

    The payload is validated with the context ``{READ_PLAINLY: True}`` when orjson's reading
    was used: a view that takes part of it as JSON without validating it then knows that part
    holds no Decimal or float (see services/gateway/routed_copies.py)."""
    plain = loads_plain(body)
    if plain is not None:
        try:
            return _validated(plain, views, plain=True)
        except (MalformedMessage, _ReadExactly):
            pass  # the exact reading decides, and says why it refuses
    try:
        raw = loads_exact(body)
    except NotJSON as exc:
        raise MalformedMessage(f"not JSON: {exc}") from exc
    return _validated(raw, views, plain=False)


class _ReadExactly(Exception):
    """A plainly read body has a fraction where it is validated: it is read again exactly."""


def _validated(
    raw: Any, views: Mapping[tuple[str, int], type[Payload]] | None, *, plain: bool
) -> tuple[Envelope, Payload]:
    if plain and isinstance(raw, dict) and has_fraction(_envelope_fields(raw)):
        raise _ReadExactly
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise MalformedMessage(f"bad envelope: {describe(exc, limit=5)}") from exc
    del raw
    key = (envelope.type, envelope.version)
    model = (views or {}).get(key) or _REGISTRY.get(key)
    if model is None:
        known = sorted({t for t, _ in _REGISTRY})
        if envelope.type in known:
            raise MalformedMessage(
                f"unknown version {envelope.version} of message type {envelope.type!r}"
            )
        raise MalformedMessage(f"unknown message type {envelope.type!r}")
    if plain and has_fraction(_validated_fields(model, envelope.payload)):
        raise _ReadExactly
    try:
        payload = model.model_validate(envelope.payload, context={READ_PLAINLY: plain})
    except ValidationError as exc:
        raise MalformedMessage(f"bad {envelope.type} payload: {describe(exc, limit=5)}") from exc
    envelope.payload = {}
    return envelope, payload


def _envelope_fields(raw: dict[str, Any]) -> Iterator[Any]:
    return (value for name, value in raw.items() if name != "payload")


def _validated_fields(model: type[Payload], payload: dict[str, Any]) -> Iterable[Any]:
    """The payload's values ``model`` validates: all of them, or a view's declared ones (a
    view ignores the others, so their numbers need not be exact; a view that reads undeclared
    keys in a validator of its own must not be ``extra="ignore"``)."""
    if model.model_config.get("extra") != "ignore":
        return payload.values()
    declared = _declared_names(model)
    return (value for name, value in payload.items() if name in declared)


@cache
def _declared_names(model: type[Payload]) -> frozenset[str]:
    names = set(model.model_fields)
    names.update(field.alias for field in model.model_fields.values() if field.alias)
    return frozenset(names)
