"""Events of the registry: tenants and devices as other services may cache them."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError
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
    """A device was paired or changed. ``revision`` orders changes of one device."""

    TYPE = "device.changed"

    device: DeviceView
    credential_hash: str
    revision: int = Field(ge=1)


@message
class TenantChanged(Payload):
    TYPE = "tenant.changed"

    tenant: str
    name: str
    api_key_hash: str
    status: str
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


def _matching(pattern: str) -> AfterValidator:
    """The ``pattern`` constraint, checked by one validator compiled on first use and shared by
    every field and parameter of this kind: pydantic compiles a Unicode ``\\w`` into about
    4 MB, once for each field and parameter that declares the pattern itself. The same engine,
    so the same names are accepted, with the same error."""

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
                {"pattern": pattern},
            ) from None

    return AfterValidator(check)


Login = Annotated[
    str, _matching(LOGIN_PATTERN), Field(json_schema_extra={"pattern": LOGIN_PATTERN})
]
GroupName = Annotated[
    str, _matching(GROUP_PATTERN), Field(json_schema_extra={"pattern": GROUP_PATTERN})
]


@message
class DeviceSeen(Payload):
    """A terminal was in contact with the gateway (sent at most every 30 s per device)."""

    TYPE = "device.seen"

    device_id: str = Field(min_length=1, max_length=100)
    at: datetime
