"""The routing rules of docs/routing.md ("The rules"), as tables."""

from __future__ import annotations

from typing import Any, cast

import pytest

from services.routing.processes import BusinessProcess
from services.routing.rules import (
    EVERYONE,
    Accepted,
    Decision,
    DeviceInfo,
    DirectoryView,
    Lookups,
    Refused,
    decide,
    lookups_for,
)
from shared.contracts.directory import DeviceView
from shared.contracts.documents import Channel, Target
from shared.i18n import MESSAGES, render

TENANT = "base-1"
ORDER = "Заказ поставщику"

EDA50 = DeviceInfo("dev-1", "5546", "EDA50", "active", "online", TENANT)
TC21 = DeviceInfo("dev-2", "7310", "TC21", "active", "offline", TENANT)
BLOCKED = DeviceInfo("dev-3", "1111", "CT40", "blocked", "online", TENANT)
RETIRED = DeviceInfo("dev-4", "2222", "CT60", "retired", "online", TENANT)
FOREIGN = DeviceInfo("dev-9", "5546", "EDA51", "active", "online", "base-2")

MEMBERS = {
    "storekeepers": ["ivanov", "petrov", "ivanov"],
    "pickers": ["sidorov"],
    "empty": [],
    EVERYONE: ["ivanov", "petrov", "sidorov"],
}


def make_process(**settings: Any) -> BusinessProcess:
    base: dict[str, Any] = {
        "id": "receipt",
        "name": "Приёмка",
        "source_type": ORDER,
        "terminal_type": "Поступление",
        "result_type": "Приобретение товаров и услуг",
    }
    return BusinessProcess.model_validate(base | settings)


FREE = make_process()
FREE_OWN = make_process(own_copy_per_user=True)
FREE_COLLECTIVE = make_process(collective=True)
FIXED_USER = make_process(fixed_assignee={"kind": "user", "value": "ivanov"})
FIXED_GROUP = make_process(fixed_assignee={"kind": "group", "value": "storekeepers"})
FIXED_GROUP_OWN = make_process(
    fixed_assignee={"kind": "group", "value": "storekeepers"}, own_copy_per_user=True
)
DEVICE = make_process(id="device-only", assign_to="device")


def pin(value: str | None) -> Target:
    return Target(kind="pin", value=value)


def device(value: str | None = None) -> Target:
    return Target(kind="device", value=value)


def user(value: str) -> Target:
    return Target(kind="user", value=value)


def group(value: str) -> Target:
    return Target(kind="group", value=value)


EVERYBODY = Target(kind="everyone")


def view(found: DeviceInfo | None = None, available: tuple[DeviceInfo, ...] = ()) -> DirectoryView:
    return DirectoryView(device=found, available_devices=available, members=MEMBERS)


def refused(code: str, **params: Any) -> tuple[str, str, dict[str, Any]]:
    return ("refused", code, params)


def to(*recipients: tuple[str, str | None, str]) -> tuple[str, tuple[Any, ...]]:
    return ("accepted", recipients)


def summary(decision: Decision) -> tuple[Any, ...]:
    """Refused → (refused, code, params); Accepted → (accepted, ((kind, value, copy), ...))."""
    if isinstance(decision, Refused):
        return ("refused", decision.code, dict(decision.params))
    first = decision.routes[0].recipients
    return ("accepted", tuple((r.target.kind, r.target.value, r.copy) for r in first))


def run(
    process: BusinessProcess | None,
    channel: Channel,
    target: Target,
    directory: DirectoryView,
    types: tuple[str, ...] = (ORDER,),
) -> Decision:
    return decide(process, "receipt", channel, target, list(types), directory, tenant=TENANT)


CASES = [
    # docs/routing.md, rule 1: the process and the documents.
    pytest.param(
        None,
        "internet",
        pin("5546"),
        view(EDA50),
        (ORDER,),
        refused("process_not_found", process="receipt", nearest=""),
        id="unknown-process",
    ),
    pytest.param(
        make_process(enabled=False),
        "internet",
        pin("5546"),
        view(EDA50),
        (ORDER,),
        refused("process_disabled", process="receipt"),
        id="disabled-process",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("5546"),
        view(EDA50),
        (ORDER, "Заказ клиента"),
        refused("wrong_source_type", expected=ORDER, actual="Заказ клиента", document=2),
        id="wrong-source-type-second-document",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("5546"),
        view(EDA50),
        ("заказ поставщику",),
        refused("wrong_source_type", expected=ORDER, actual="заказ поставщику", document=1),
        id="source-type-compared-exactly",
    ),
    pytest.param(
        FREE, "internet", pin("5546"), view(EDA50), (), refused("no_documents"), id="no-documents"
    ),
    # docs/routing.md, rule 2: internet, by PIN, within the tenant only.
    pytest.param(
        FREE,
        "internet",
        pin("5546"),
        view(EDA50),
        (ORDER,),
        to(("device", "dev-1", "shared")),
        id="pin-found",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("0000"),
        view(None),
        (ORDER,),
        refused("device_not_found_by_pin", pin="0000"),
        id="wrong-pin",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("5546"),
        view(FOREIGN),
        (ORDER,),
        refused("device_not_found_by_pin", pin="5546"),
        id="pin-of-other-tenant",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("5546"),
        view(TC21),
        (ORDER,),
        refused("device_not_found_by_pin", pin="5546"),
        id="directory-device-with-other-pin",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("1111"),
        view(BLOCKED),
        (ORDER,),
        refused("device_not_active", pin="1111", device="dev-3"),
        id="pin-of-blocked",
    ),
    pytest.param(
        FREE,
        "internet",
        pin(None),
        view(None),
        (ORDER,),
        refused("target_incomplete", target="pin"),
        id="pin-without-value",
    ),
    # docs/routing.md, rule 3: internet, by device id picked from the list.
    pytest.param(
        FREE,
        "internet",
        device("dev-1"),
        view(EDA50),
        (ORDER,),
        to(("device", "dev-1", "shared")),
        id="device-id-found",
    ),
    pytest.param(
        FREE,
        "internet",
        device("dev-9"),
        view(None),
        (ORDER,),
        refused("device_not_found", device="dev-9"),
        id="other-tenant-device-directory-none",
    ),
    pytest.param(
        FREE,
        "internet",
        device("dev-9"),
        view(FOREIGN),
        (ORDER,),
        refused("device_not_found", device="dev-9"),
        id="other-tenant-device-directory-leaks",
    ),
    pytest.param(
        FREE,
        "internet",
        device("dev-3"),
        view(BLOCKED),
        (ORDER,),
        refused("device_not_active", pin="1111", device="dev-3"),
        id="blocked-device",
    ),
    pytest.param(
        FREE,
        "internet",
        device("dev-4"),
        view(RETIRED),
        (ORDER,),
        refused("device_not_active", pin="2222", device="dev-4"),
        id="retired-device",
    ),
    pytest.param(
        FREE,
        "internet",
        device(None),
        view(None, (EDA50,)),
        (ORDER,),
        refused("target_incomplete", target="device"),
        id="users-groups-process-device-not-named",
    ),
    # The internet delivers to devices only.
    pytest.param(
        FREE,
        "internet",
        EVERYBODY,
        view(),
        (ORDER,),
        refused("target_not_allowed_on_channel", channel="internet", target="everyone"),
        id="internet-everyone",
    ),
    pytest.param(
        FREE,
        "internet",
        group("pickers"),
        view(),
        (ORDER,),
        refused("target_not_allowed_on_channel", channel="internet", target="group"),
        id="internet-group",
    ),
    pytest.param(
        FREE,
        "internet",
        user("ivanov"),
        view(),
        (ORDER,),
        refused("target_not_allowed_on_channel", channel="internet", target="user"),
        id="internet-user",
    ),
    # The LAN delivers to users/groups/everyone, to a device only for a device process.
    pytest.param(
        FREE,
        "lan",
        pin("5546"),
        view(EDA50),
        (ORDER,),
        refused("target_not_allowed_on_channel", channel="lan", target="pin"),
        id="lan-pin",
    ),
    pytest.param(
        FREE,
        "lan",
        device("dev-1"),
        view(EDA50),
        (ORDER,),
        refused("target_not_allowed_on_channel", channel="lan", target="device"),
        id="lan-device-users-groups-process",
    ),
    pytest.param(
        FREE,
        "lan",
        Target(kind="user"),
        view(),
        (ORDER,),
        refused("target_incomplete", target="user"),
        id="lan-user-without-login",
    ),
    # docs/routing.md, rule 6: no fixed user/group: device, everyone, group, user.
    pytest.param(
        FREE,
        "lan",
        EVERYBODY,
        view(),
        (ORDER,),
        to(("everyone", None, "shared")),
        id="free-everyone",
    ),
    pytest.param(
        FREE,
        "lan",
        Target(kind="everyone", value="ignored"),
        view(),
        (ORDER,),
        to(("everyone", None, "shared")),
        id="free-everyone-value-ignored",
    ),
    pytest.param(
        FREE,
        "lan",
        group("pickers"),
        view(),
        (ORDER,),
        to(("group", "pickers", "shared")),
        id="free-group",
    ),
    pytest.param(
        FREE,
        "lan",
        group("empty"),
        view(),
        (ORDER,),
        to(("group", "empty", "shared")),
        id="free-empty-group-shared-copy",
    ),
    pytest.param(
        FREE,
        "lan",
        user("petrov"),
        view(),
        (ORDER,),
        to(("user", "petrov", "shared")),
        id="free-user",
    ),
    pytest.param(
        FREE_COLLECTIVE,
        "lan",
        group("pickers"),
        view(),
        (ORDER,),
        to(("group", "pickers", "collective")),
        id="collective-group",
    ),
    pytest.param(
        FREE_COLLECTIVE,
        "internet",
        pin("5546"),
        view(EDA50),
        (ORDER,),
        to(("device", "dev-1", "collective")),
        id="collective-device",
    ),
    # docs/routing.md, rule 7: own copy per user.
    pytest.param(
        FREE_OWN,
        "lan",
        group("storekeepers"),
        view(),
        (ORDER,),
        to(("user", "ivanov", "own"), ("user", "petrov", "own")),
        id="own-copy-group-deduplicated",
    ),
    pytest.param(
        FREE_OWN,
        "lan",
        EVERYBODY,
        view(),
        (ORDER,),
        to(("user", "ivanov", "own"), ("user", "petrov", "own"), ("user", "sidorov", "own")),
        id="own-copy-everyone",
    ),
    pytest.param(
        FREE_OWN,
        "lan",
        group("empty"),
        view(),
        (ORDER,),
        refused("group_is_empty", group="empty"),
        id="own-copy-empty-group",
    ),
    pytest.param(
        FREE_OWN,
        "lan",
        group("ghosts"),
        view(),
        (ORDER,),
        refused("group_is_empty", group="ghosts"),
        id="own-copy-unknown-group",
    ),
    pytest.param(
        FREE_OWN,
        "lan",
        EVERYBODY,
        DirectoryView(members={EVERYONE: []}),
        (ORDER,),
        refused("no_users"),
        id="own-copy-everyone-no-users",
    ),
    pytest.param(
        FREE_OWN,
        "lan",
        user("petrov"),
        view(),
        (ORDER,),
        to(("user", "petrov", "shared")),
        id="own-copy-user-one-copy",
    ),
    pytest.param(
        FREE_OWN,
        "internet",
        pin("5546"),
        view(EDA50),
        (ORDER,),
        to(("device", "dev-1", "shared")),
        id="own-copy-device-one-copy",
    ),
    # docs/routing.md, rule 4: a fixed user: only that user, or any device.
    pytest.param(
        FIXED_USER,
        "lan",
        user("ivanov"),
        view(),
        (ORDER,),
        to(("user", "ivanov", "shared")),
        id="fixed-user-same-user",
    ),
    pytest.param(
        FIXED_USER,
        "lan",
        user("petrov"),
        view(),
        (ORDER,),
        refused(
            "assignee_not_allowed",
            process="receipt",
            assignee="ivanov",
            assignee_kind="user",
            target="petrov",
            target_kind="user",
        ),
        id="fixed-user-other-user",
    ),
    pytest.param(
        FIXED_USER,
        "lan",
        group("storekeepers"),
        view(),
        (ORDER,),
        refused(
            "assignee_not_allowed",
            process="receipt",
            assignee="ivanov",
            assignee_kind="user",
            target="storekeepers",
            target_kind="group",
        ),
        id="fixed-user-group",
    ),
    pytest.param(
        FIXED_USER,
        "lan",
        EVERYBODY,
        view(),
        (ORDER,),
        refused(
            "assignee_not_allowed",
            process="receipt",
            assignee="ivanov",
            assignee_kind="user",
            target=EVERYONE,
            target_kind="everyone",
        ),
        id="fixed-user-everyone",
    ),
    pytest.param(
        FIXED_USER,
        "internet",
        device("dev-2"),
        view(TC21),
        (ORDER,),
        to(("device", "dev-2", "shared")),
        id="fixed-user-any-device",
    ),
    # docs/routing.md, rule 4: a fixed group: only that group, or any device.
    pytest.param(
        FIXED_GROUP,
        "lan",
        group("storekeepers"),
        view(),
        (ORDER,),
        to(("group", "storekeepers", "shared")),
        id="fixed-group-same-group",
    ),
    pytest.param(
        FIXED_GROUP,
        "lan",
        group("pickers"),
        view(),
        (ORDER,),
        refused(
            "assignee_not_allowed",
            process="receipt",
            assignee="storekeepers",
            assignee_kind="group",
            target="pickers",
            target_kind="group",
        ),
        id="fixed-group-other-group",
    ),
    pytest.param(
        FIXED_GROUP,
        "lan",
        user("ivanov"),
        view(),
        (ORDER,),
        refused(
            "assignee_not_allowed",
            process="receipt",
            assignee="storekeepers",
            assignee_kind="group",
            target="ivanov",
            target_kind="user",
        ),
        id="fixed-group-member-as-user",
    ),
    pytest.param(
        FIXED_GROUP,
        "lan",
        user("storekeepers"),
        view(),
        (ORDER,),
        refused(
            "assignee_not_allowed",
            process="receipt",
            assignee="storekeepers",
            assignee_kind="group",
            target="storekeepers",
            target_kind="user",
        ),
        id="fixed-group-user-with-group-name",
    ),
    pytest.param(
        FIXED_GROUP,
        "lan",
        EVERYBODY,
        view(),
        (ORDER,),
        refused(
            "assignee_not_allowed",
            process="receipt",
            assignee="storekeepers",
            assignee_kind="group",
            target=EVERYONE,
            target_kind="everyone",
        ),
        id="fixed-group-everyone",
    ),
    pytest.param(
        FIXED_GROUP,
        "internet",
        pin("5546"),
        view(EDA50),
        (ORDER,),
        to(("device", "dev-1", "shared")),
        id="fixed-group-device-by-pin",
    ),
    pytest.param(
        FIXED_GROUP,
        "internet",
        device("dev-2"),
        view(TC21),
        (ORDER,),
        to(("device", "dev-2", "shared")),
        id="fixed-group-device-by-id",
    ),
    pytest.param(
        FIXED_GROUP_OWN,
        "lan",
        group("storekeepers"),
        view(),
        (ORDER,),
        to(("user", "ivanov", "own"), ("user", "petrov", "own")),
        id="fixed-group-own-copies",
    ),
    # docs/routing.md, rule 5: assign to a specific device.
    pytest.param(
        DEVICE,
        "internet",
        device("dev-2"),
        view(TC21, (EDA50, TC21)),
        (ORDER,),
        to(("device", "dev-2", "shared")),
        id="device-process-named-device",
    ),
    pytest.param(
        DEVICE,
        "internet",
        pin("5546"),
        view(EDA50, (EDA50, TC21)),
        (ORDER,),
        to(("device", "dev-1", "shared")),
        id="device-process-named-by-pin",
    ),
    pytest.param(
        DEVICE,
        "internet",
        device(None),
        view(None, ()),
        (ORDER,),
        refused("no_device_available", process="device-only"),
        id="device-process-zero-devices",
    ),
    pytest.param(
        DEVICE,
        "internet",
        device(None),
        view(None, (BLOCKED, RETIRED, FOREIGN)),
        (ORDER,),
        refused("no_device_available", process="device-only"),
        id="device-process-only-inactive-or-foreign",
    ),
    pytest.param(
        DEVICE,
        "internet",
        device(None),
        view(None, (TC21,)),
        (ORDER,),
        to(("device", "dev-2", "shared")),
        id="device-process-one-device-chosen",
    ),
    pytest.param(
        DEVICE,
        "internet",
        device(None),
        view(None, (BLOCKED, TC21, FOREIGN)),
        (ORDER,),
        to(("device", "dev-2", "shared")),
        id="device-process-one-active-among-others",
    ),
    pytest.param(
        DEVICE,
        "internet",
        device(None),
        view(None, (EDA50, TC21)),
        (ORDER,),
        refused("device_not_chosen", process="device-only", count=2),
        id="device-process-many-devices",
    ),
    pytest.param(
        DEVICE,
        "internet",
        device("dev-3"),
        view(BLOCKED, (EDA50,)),
        (ORDER,),
        refused("device_not_active", pin="1111", device="dev-3"),
        id="device-process-named-blocked",
    ),
    pytest.param(
        DEVICE,
        "lan",
        device("dev-1"),
        view(EDA50),
        (ORDER,),
        to(("device", "dev-1", "shared")),
        id="device-process-lan-named",
    ),
    pytest.param(
        DEVICE,
        "lan",
        device(None),
        view(None, (EDA50,)),
        (ORDER,),
        to(("device", "dev-1", "shared")),
        id="device-process-lan-one-chosen",
    ),
    pytest.param(
        DEVICE,
        "lan",
        user("ivanov"),
        view(),
        (ORDER,),
        refused("device_required", process="device-only"),
        id="device-process-lan-user",
    ),
    pytest.param(
        DEVICE,
        "lan",
        EVERYBODY,
        view(),
        (ORDER,),
        refused("device_required", process="device-only"),
        id="device-process-lan-everyone",
    ),
    pytest.param(
        DEVICE,
        "internet",
        group("pickers"),
        view(),
        (ORDER,),
        refused("target_not_allowed_on_channel", channel="internet", target="group"),
        id="device-process-internet-group",
    ),
]


@pytest.mark.parametrize(("process", "channel", "target", "directory", "types", "expected"), CASES)
def test_decide(
    process: BusinessProcess | None,
    channel: Channel,
    target: Target,
    directory: DirectoryView,
    types: tuple[str, ...],
    expected: tuple[Any, ...],
) -> None:
    assert summary(run(process, channel, target, directory, types)) == expected


REFUSALS = [
    pytest.param(expected[1], expected[2], id=case.id)
    for case in CASES
    if (expected := cast(tuple[Any, ...], case.values[-1]))[0] == "refused"
]


@pytest.mark.parametrize(("code", "params"), REFUSALS)
def test_every_refusal_has_a_message_in_both_languages(code: str, params: dict[str, Any]) -> None:
    assert set(MESSAGES[code]) == {"ru", "en"}
    for language in ("ru", "en"):
        text = render(code, language, params)
        assert text and "{" not in text


def test_every_document_gets_the_same_recipients() -> None:
    decision = run(FREE_OWN, "lan", group("storekeepers"), view(), (ORDER, ORDER, ORDER))
    assert isinstance(decision, Accepted)
    assert [route.document_index for route in decision.routes] == [0, 1, 2]
    first = decision.routes[0].recipients
    assert [r.target.value for r in first] == ["ivanov", "petrov"]
    assert all(route.recipients == first for route in decision.routes)


def test_device_recipient_carries_the_device_for_delivery() -> None:
    decision = run(DEVICE, "internet", device(None), view(None, (TC21,)))
    assert isinstance(decision, Accepted)
    (recipient,) = decision.routes[0].recipients
    assert recipient.device == TC21
    assert recipient.device.mode == "offline"


def test_device_info_from_registry_view() -> None:
    registry_view = DeviceView(
        id="dev-1",
        tenant=TENANT,
        pin="5546",
        name="EDA50",
        model="EDA50",
        hardware_id="HONEYWELL-EDA50-V-16204B17A7",
        mode="online",
        status="active",
    )
    assert DeviceInfo.from_view(registry_view) == EDA50


LOOKUPS = [
    pytest.param(FREE, "internet", pin("5546"), (ORDER,), Lookups(device_pin="5546"), id="pin"),
    pytest.param(
        FREE, "internet", device("dev-1"), (ORDER,), Lookups(device_id="dev-1"), id="device-id"
    ),
    pytest.param(
        DEVICE,
        "internet",
        device(None),
        (ORDER,),
        Lookups(available_devices=True),
        id="device-process-none-named",
    ),
    pytest.param(
        DEVICE,
        "lan",
        device("dev-1"),
        (ORDER,),
        Lookups(device_id="dev-1"),
        id="device-process-lan-named",
    ),
    pytest.param(
        FREE_OWN,
        "lan",
        group("storekeepers"),
        (ORDER,),
        Lookups(members_of="storekeepers"),
        id="own-copy-group",
    ),
    pytest.param(
        FREE_OWN, "lan", EVERYBODY, (ORDER,), Lookups(members_of=EVERYONE), id="own-copy-everyone"
    ),
    pytest.param(FREE, "lan", group("storekeepers"), (ORDER,), Lookups(), id="shared-group"),
    pytest.param(FREE, "lan", user("ivanov"), (ORDER,), Lookups(), id="user"),
    pytest.param(None, "internet", pin("5546"), (ORDER,), Lookups(), id="unknown-process"),
    pytest.param(
        make_process(enabled=False),
        "internet",
        pin("5546"),
        (ORDER,),
        Lookups(),
        id="disabled-process",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("5546"),
        ("Заказ клиента",),
        Lookups(),
        id="wrong-source-type-no-pin-lookup",
    ),
    pytest.param(
        FREE,
        "internet",
        pin("5546"),
        None,
        Lookups(device_pin="5546"),
        id="document-types-not-given",
    ),
    pytest.param(FREE, "internet", user("ivanov"), (ORDER,), Lookups(), id="refused-by-channel"),
    pytest.param(
        FIXED_GROUP_OWN, "lan", group("pickers"), (ORDER,), Lookups(), id="refused-by-fixed-group"
    ),
]


@pytest.mark.parametrize(("process", "channel", "target", "types", "expected"), LOOKUPS)
def test_lookups_for(
    process: BusinessProcess | None,
    channel: Channel,
    target: Target,
    types: tuple[str, ...] | None,
    expected: Lookups,
) -> None:
    assert lookups_for(process, channel, target, types) == expected
