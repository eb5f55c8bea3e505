"""The routing rules: whether an upload request is accepted, and for whom each copy is made.

Pure: no I/O. The caller asks :func:`lookups_for` which directory facts the request needs,
fetches them (scoped to the request's tenant), and passes them to :func:`decide` as a
:class:`DirectoryView`. The answer is :class:`Accepted` (the recipients of every document) or
:class:`Refused` (a stable code and the parameters of its message, see ``shared/i18n.py``).
A request is all-or-nothing: one refused rule refuses every document.

The rules are those of docs/routing.md ("The rules"). Where it is silent, this module decides:

- Order. Rules are checked in this order and the first that fails is answered: process known,
  process enabled, at least one document, every document of the source type, the target suits
  the channel, the target is complete, the target suits the process, then the directory facts
  (device, members).
- Source types are compared exactly (the contract strips surrounding whitespace).
- Channels. The internet channel delivers to devices only (target ``pin`` or ``device``).
  The LAN channel delivers to users, groups and everyone, and to a device only when the process
  assigns to a specific device. A PIN is an internet-channel notion and is refused on the LAN.
  Both answer ``target_not_allowed_on_channel``.
- A fixed user or group admits exactly that kind and name; a member of the fixed group named
  as a user, another group, or everyone, is refused (``assignee_not_allowed``). Any device is
  admitted (a device is "arbitrary": rule 4 of docs/routing.md).
- "Assign to specific device": the target must be a PIN or a device; a user, a group or
  everyone is refused with ``device_required``. A device target without a value means "no
  device named" and lets an only available device be chosen.
- A ``pin``, ``user`` or ``group`` target without a value, or a ``device`` target without a
  value in a process that does not assign to a specific device, is ``target_incomplete``.
  A value given with ``everyone`` is ignored.
- The directory is trusted but checked: a device of another tenant, or one that does not carry
  the PIN or id the target named, counts as not found; devices offered for automatic choice
  count only when active and of the tenant.
- "Own copy per user" applies to groups and everyone: one copy per member, members deduplicated
  in the directory's order. An empty or unknown group is ``group_is_empty``; no users at all is
  ``no_users``. A user or a device always gets one copy.
- Every copy that is not an own copy is shared: locked by the first user who takes it, or
  worked on together when the process is collective (copy kind ``collective``).
- Whether a named group or user exists is not checked here (the view holds no such fact);
  a shared copy for a group is accepted even while the group has no members.
- Remembering a device for the base's device list (rule 2 of docs/routing.md) is not decided
  here: the registry lists every device an accepted ``upload.decided`` delivered to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from services.routing.processes import BusinessProcess
from shared.contracts.directory import DeviceView
from shared.contracts.documents import Channel, DeviceMode, Target

CopyKind = Literal["shared", "collective", "own"]
# The key of DirectoryView.members that lists every user of the tenant.
EVERYONE = "*"
ACTIVE = "active"


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    pin: str
    name: str
    status: str  # active, blocked, retired
    mode: DeviceMode
    tenant: str

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @classmethod
    def from_view(cls, view: DeviceView) -> DeviceInfo:
        return cls(view.id, view.pin, view.name, view.status, view.mode, view.tenant)


@dataclass(frozen=True)
class Lookups:
    """Directory facts :func:`decide` will need; nothing set means none."""

    device_pin: str | None = None  # fetch the device with this PIN
    device_id: str | None = None  # fetch the device with this id
    available_devices: bool = False  # fetch the tenant's active devices
    members_of: str | None = None  # fetch the logins of this group, or EVERYONE


@dataclass(frozen=True)
class DirectoryView:
    """What the registry answered for :class:`Lookups`, already scoped to the tenant."""

    device: DeviceInfo | None = None
    available_devices: Sequence[DeviceInfo] = ()
    members: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipient:
    """One copy of a document: for whom (kind device, user, group or everyone) and how shared."""

    target: Target
    copy: CopyKind
    device: DeviceInfo | None = None  # set when the target is a device


@dataclass(frozen=True)
class Route:
    document_index: int  # position of the document in the request
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class Accepted:
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class Refused:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


Decision = Accepted | Refused


# What the directory must answer before recipients are known.
@dataclass(frozen=True)
class _ByPin:
    pin: str


@dataclass(frozen=True)
class _ById:
    device_id: str


@dataclass(frozen=True)
class _PickDevice:
    pass


@dataclass(frozen=True)
class _Members:
    key: str  # group name or EVERYONE


@dataclass(frozen=True)
class _AsNamed:
    target: Target


_Plan = _ByPin | _ById | _PickDevice | _Members | _AsNamed


def lookups_for(
    process: BusinessProcess | None,
    channel: Channel,
    target: Target,
    document_types: Sequence[str] | None = None,
) -> Lookups:
    """The directory facts to fetch for this request.

    None when the request will be refused without them, so a refused request never looks up
    (or counts a miss for) a PIN. ``document_types`` are checked when given.
    """
    plan = _plan(process, "", channel, target, document_types)
    match plan:
        case _ByPin(pin):
            return Lookups(device_pin=pin)
        case _ById(device_id):
            return Lookups(device_id=device_id)
        case _PickDevice():
            return Lookups(available_devices=True)
        case _Members(key):
            return Lookups(members_of=key)
        case _:
            return Lookups()


def decide(
    process: BusinessProcess | None,
    process_ref: str,
    channel: Channel,
    target: Target,
    document_types: Sequence[str],
    directory: DirectoryView,
    *,
    tenant: str,
    nearest: str = "",
) -> Decision:
    """Accept the request with a route per document, or refuse it whole.

    ``process`` is the tenant's process named ``process_ref`` (None if there is none; then
    ``nearest`` is the known process its name comes closest to, "" for none);
    ``document_types`` are the accounting types of the request's documents, in order.
    """
    plan = _plan(process, process_ref, channel, target, document_types, nearest)
    if isinstance(plan, Refused):
        return plan
    assert process is not None  # a plan exists only for a known process
    copy: CopyKind = "collective" if process.collective else "shared"
    recipients: tuple[Recipient, ...]
    match plan:
        case _ByPin(pin):
            found = _device(directory.device, tenant, pin=pin)
            if isinstance(found, Refused):
                return found
            recipients = (_to_device(found, copy),)
        case _ById(device_id):
            found = _device(directory.device, tenant, device_id=device_id)
            if isinstance(found, Refused):
                return found
            recipients = (_to_device(found, copy),)
        case _PickDevice():
            picked = _pick_device(directory.available_devices, tenant, process.id)
            if isinstance(picked, Refused):
                return picked
            recipients = (_to_device(picked, copy),)
        case _Members(key):
            logins = _members(directory.members, key)
            if isinstance(logins, Refused):
                return logins
            recipients = tuple(Recipient(Target(kind="user", value=u), "own") for u in logins)
        case _AsNamed(named):
            recipients = (Recipient(named, copy),)
    routes = tuple(Route(index, recipients) for index in range(len(document_types)))
    return Accepted(routes)


def _plan(
    process: BusinessProcess | None,
    process_ref: str,
    channel: Channel,
    target: Target,
    document_types: Sequence[str] | None,
    nearest: str = "",
) -> _Plan | Refused:
    """Every rule that needs no directory fact, and what to resolve next."""
    if process is None:
        return Refused("process_not_found", {"process": process_ref, "nearest": nearest})
    if not process.enabled:
        return Refused("process_disabled", {"process": process.id})
    if document_types is not None:
        refused = _check_documents(process, document_types)
        if refused:
            return refused
    refused = _check_channel(process, channel, target) or _check_complete(process, target)
    if refused:
        return refused
    refused = _check_assignee(process, target)
    if refused:
        return refused
    return _what_to_resolve(process, target)


def _check_documents(process: BusinessProcess, document_types: Sequence[str]) -> Refused | None:
    if not document_types:
        return Refused("no_documents")
    # ``document``: its place in the request, counted from 1 as every message counts.
    for place, actual in enumerate(document_types, start=1):
        if actual != process.source_type:
            params = {"expected": process.source_type, "actual": actual, "document": place}
            return Refused("wrong_source_type", params)
    return None


def _check_channel(process: BusinessProcess, channel: Channel, target: Target) -> Refused | None:
    if channel == "internet":
        allowed = target.kind in ("pin", "device")
    else:
        allowed = target.kind in ("user", "group", "everyone") or (
            target.kind == "device" and process.assign_to == "device"
        )
    if allowed:
        return None
    return Refused("target_not_allowed_on_channel", {"channel": channel, "target": target.kind})


def _check_complete(process: BusinessProcess, target: Target) -> Refused | None:
    if target.kind == "everyone" or target.value:
        return None
    if target.kind == "device" and process.assign_to == "device":
        return None  # no device named: one may be chosen automatically
    return Refused("target_incomplete", {"target": target.kind})


def _check_assignee(process: BusinessProcess, target: Target) -> Refused | None:
    to_device = target.kind in ("pin", "device")
    if process.assign_to == "device":
        return None if to_device else Refused("device_required", {"process": process.id})
    fixed = process.fixed_assignee
    if fixed is None or to_device or (target.kind, target.value) == (fixed.kind, fixed.value):
        return None
    return Refused(
        "assignee_not_allowed",
        {
            "process": process.id,
            "assignee": fixed.value,
            "assignee_kind": fixed.kind,
            "target": target.value if target.kind != "everyone" else EVERYONE,
            "target_kind": target.kind,
        },
    )


def _what_to_resolve(process: BusinessProcess, target: Target) -> _Plan:
    value = target.value or ""
    match target.kind:
        case "pin":
            return _ByPin(value)
        case "device":
            return _ById(value) if value else _PickDevice()
        case "everyone":
            if process.own_copy_per_user:
                return _Members(EVERYONE)
            return _AsNamed(Target(kind="everyone"))
        case "group" if process.own_copy_per_user:
            return _Members(value)
        case _:
            return _AsNamed(Target(kind=target.kind, value=value))


def _device(
    found: DeviceInfo | None, tenant: str, *, pin: str | None = None, device_id: str | None = None
) -> DeviceInfo | Refused:
    """The named device, if it is the tenant's, carries what the target named and is active."""
    if pin is not None:
        matches = found is not None and found.pin == pin
        missing = Refused("device_not_found_by_pin", {"pin": pin})
    else:
        matches = found is not None and found.id == device_id
        missing = Refused("device_not_found", {"device": device_id})
    if found is None or not matches or found.tenant != tenant:
        return missing
    if not found.active:
        return Refused("device_not_active", {"pin": found.pin, "device": found.id})
    return found


def _pick_device(
    available: Sequence[DeviceInfo], tenant: str, process_id: str
) -> DeviceInfo | Refused:
    candidates = {d.id: d for d in available if d.tenant == tenant and d.active}
    if not candidates:
        return Refused("no_device_available", {"process": process_id})
    if len(candidates) > 1:
        return Refused("device_not_chosen", {"process": process_id, "count": len(candidates)})
    return next(iter(candidates.values()))


def _members(members: Mapping[str, Sequence[str]], key: str) -> list[str] | Refused:
    logins = list(dict.fromkeys(login for login in members.get(key, ()) if login))
    if logins:
        return logins
    if key == EVERYONE:
        return Refused("no_users")
    return Refused("group_is_empty", {"group": key})


def _to_device(device: DeviceInfo, copy: CopyKind) -> Recipient:
    return Recipient(Target(kind="device", value=device.id), copy, device)
