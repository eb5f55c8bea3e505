"""Events of the registry: tenants and devices as other services may cache them."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from shared.contracts.documents import DeviceMode, Strict
from shared.contracts.envelope import Payload, message


class DeviceView(Strict):
    id: str
    tenant: str
    pin: str
    name: str
    model: str
    hardware_id: str
    mode: DeviceMode
    status: str  # active, blocked, retired
    last_seen: datetime | None = None


@message
class DeviceChanged(Payload):
    """A device was paired or changed. ``revision`` orders changes of one device.

    Version 2: ``replaced_by`` names the device that took over a retired one's PIN and work
    (None otherwise), so that whoever keeps a copy of the directory knows it with the change."""

    TYPE = "device.changed"
    VERSION = 2

    device: DeviceView
    credential_hash: str
    revision: int = Field(ge=1)
    replaced_by: str | None = Field(default=None, min_length=1, max_length=100)


@message
class DeviceChangedV1(Payload):
    """A device was paired or changed (version 1: without ``replaced_by``; no longer
    published). Still understood, so a message sent before an upgrade is not parked."""

    TYPE = "device.changed"
    VERSION = 1

    device: DeviceView
    credential_hash: str
    revision: int = Field(ge=1)

    def upgraded(self) -> DeviceChanged:
        return DeviceChanged.model_validate(self.model_dump())


# Characters GS1 never puts in a code (outside its set 82): only these can stand for the
# group separator without being mistaken for a part of a code.
GS_SUBSTITUTES = "#$@[\\]^`{|}~"
GS_SUBSTITUTE_PATTERN = r"^[#$@\[\\\]^`{|}~]?$"
WeightPrefix = Annotated[str, Field(pattern=r"^2[0-9]$")]


class BarcodeSettings(Strict):
    """How a base's terminals read in-store weight codes and «Честный ЗНАК» codes (the
    terminal app's ``parseScan``). A weight code is 13 digits: a prefix from
    ``weight_prefixes``, ``item_digits`` of the product, ``weight_digits`` of its weight in
    grams and the EAN check digit. ``gs_substitute``: the character the base's scanners are
    programmed to type for the group separator, or empty."""

    weight_prefixes: list[WeightPrefix] = Field(
        default_factory=lambda: [str(prefix) for prefix in range(20, 30)], max_length=10
    )
    item_digits: int = Field(default=5, ge=1, le=9)
    weight_digits: int = Field(default=5, ge=1, le=9)
    gs_substitute: str = Field(default="", max_length=1, pattern=GS_SUBSTITUTE_PATTERN)

    @model_validator(mode="after")
    def _consistent(self) -> BarcodeSettings:
        if self.item_digits + self.weight_digits != 10:
            raise ValueError("item_digits + weight_digits must be 10 (13 digits in all)")
        if len(set(self.weight_prefixes)) != len(self.weight_prefixes):
            raise ValueError("weight_prefixes: each prefix once")
        return self


def barcode_settings_of(record: Mapping[str, Any] | None) -> BarcodeSettings:
    """A base's barcode settings from its record (or a copy of it): the defaults until it sets
    its own."""
    return BarcodeSettings.model_validate((record or {}).get("barcodes") or {})


@message
class TenantChanged(Payload):
    TYPE = "tenant.changed"

    tenant: str
    name: str
    api_key_hash: str
    status: str
    revision: int = Field(ge=1)
    barcodes: BarcodeSettings = Field(default_factory=BarcodeSettings)


@message
class PeopleChanged(Payload):
    """A base's users and groups as they are after a change: every login and every group with
    its members (a base has tens of people, not thousands). ``revision`` orders the changes of
    one base's people."""

    TYPE = "people.changed"

    tenant: str = Field(min_length=1, max_length=100)
    users: list[str] = Field(default_factory=list)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    revision: int = Field(ge=1)


@message
class DeviceReplaced(Payload):
    """A broken terminal was replaced: its PIN and the copies not yet downloaded move on."""

    TYPE = "device.replaced"

    old_device: str
    new_device: str


# The names the directory accepts, shared so that every edge (admin API, CLI, RPC) checks them
# alike: they appear in URLs and in storage ids, so none holds ":" or "/".
TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
# A login is one word: letters of any alphabet, digits and "._@-".
LOGIN_PATTERN = r"^[\w.@-]{1,64}$"
# A group name may hold spaces too ("Смена 1").
GROUP_PATTERN = r"^\w[\w .@-]{0,99}$"


def _matching(pattern: str, name: str) -> AfterValidator:
    """The ``pattern`` constraint, checked by one validator compiled on first use and shared by
    every field and parameter of this kind: pydantic compiles a Unicode ``\\w`` into about
    4 MB, once for each field and parameter that declares the pattern itself. The same engine,
    so the same names are accepted, with the same error, which also says what kind of ``name``
    it is, for a reader who cannot read a pattern (shared/i18n_validation.py)."""

    @functools.cache
    def compiled() -> TypeAdapter[str]:
        return TypeAdapter(Annotated[str, Field(pattern=pattern)])

    def check(value: str) -> str:
        try:
            return compiled().validate_python(value)
        except ValidationError:
            raise PydanticCustomError(
                "string_pattern_mismatch",
                "String should match pattern '{pattern}'",
                {"pattern": pattern, "name": name},
            ) from None

    return AfterValidator(check)


Login = Annotated[
    str, _matching(LOGIN_PATTERN, "login"), Field(json_schema_extra={"pattern": LOGIN_PATTERN})
]
GroupName = Annotated[
    str, _matching(GROUP_PATTERN, "group"), Field(json_schema_extra={"pattern": GROUP_PATTERN})
]
TenantId = Annotated[
    str,
    _matching(TENANT_ID_PATTERN, "tenant_id"),
    Field(json_schema_extra={"pattern": TENANT_ID_PATTERN}),
]


class Sighting(Strict):
    """One terminal's latest contact with the gateway."""

    device_id: str = Field(min_length=1, max_length=100)
    at: datetime


# Sightings in one ``device.seen``: a gateway sends more in several messages.
SIGHTINGS_PER_MESSAGE = 1000


@message
class DeviceSeen(Payload):
    """Terminals of one base were in contact with the gateway: each device at most every
    30 s, those of one interval together.

    Version 2: ``sightings`` lists several devices (version 1 carried one)."""

    TYPE = "device.seen"
    VERSION = 2

    sightings: list[Sighting] = Field(min_length=1, max_length=SIGHTINGS_PER_MESSAGE)


@message
class DeviceSeenV1(Payload):
    """A terminal was in contact with the gateway (version 1: one device a message; no longer
    published). Still understood, so a message sent before an upgrade is not dropped."""

    TYPE = "device.seen"
    VERSION = 1

    device_id: str = Field(min_length=1, max_length=100)
    at: datetime

    def upgraded(self) -> DeviceSeen:
        return DeviceSeen(sightings=[Sighting(device_id=self.device_id, at=self.at)])
