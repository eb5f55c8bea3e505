"""``tsdx tenant|device|user|group``: the operators' commands, through the gateway's admin API.

Every command takes ``--url`` (the gateway: ``TSDX_URL``, else http://127.0.0.1:8080) and
``--admin-token`` (default: the ``TSDX_ADMIN_TOKEN`` environment variable); ``--json`` prints
the server's answer as it is. A device is named by its id or by its PIN.

Exit codes: 0 done, 2 wrong usage, 3 refused by the server (its code and message are printed),
4 the server could not be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx

from shared.i18n import render, text, word
from shared.qr import qr_text
from tools.cli.output import (
    URL_HELP,
    add_language_option,
    columns,
    default_gateway_url,
    transport_error,
)
from tools.cli.parse_errors import number
from tools.client import AdminClient, ApiError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNREACHABLE = 4


Action = Callable[[AdminClient, argparse.Namespace], Awaitable[Any]]
Show = Callable[[Any, str], None]
if TYPE_CHECKING:
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


class UsageError(Exception):
    """The command line cannot be carried out as given (exit code 2)."""


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    cells = [[str(c) for c in header], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _run(action: Action, show: Show) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        token = args.admin_token or os.environ.get("TSDX_ADMIN_TOKEN")
        if not token:
            print(f"tsdx: {render('cli_admin_token_missing', args.lang)}", file=sys.stderr)
            return EXIT_USAGE
        try:
            result = asyncio.run(_call(action, args, token))
        except UsageError as exc:
            print(f"tsdx: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except ApiError as exc:
            print(
                text("cli.admin.refused", args.lang, code=exc.code, message=exc.message),
                file=sys.stderr,
            )
            return EXIT_REFUSED
        except httpx.TransportError as exc:
            unreachable = {"url": args.url, "transport_error": transport_error(exc)}
            print(
                f"tsdx: {render('cli_server_unreachable', args.lang, unreachable)}", file=sys.stderr
            )
            return EXIT_UNREACHABLE
        if args.json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            show(result, args.lang)
        return EXIT_OK

    return run


async def _call(action: Action, args: argparse.Namespace, token: str) -> Any:
    async with AdminClient(args.url, token, language=args.lang, timeout=args.timeout) as client:
        return await action(client, args)


def _looks_like_pin(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 12


async def _device_id(client: AdminClient, args: argparse.Namespace, device: str) -> str:
    """A device id as given, or the id of the base's (not retired) device holding this PIN."""
    if not _looks_like_pin(device):
        return device
    for found in await client.devices(args.tenant):
        if found["pin"] == device and found["status"] != "retired":
            return str(found["device_id"])
    message = render("device_not_found", args.lang)
    raise ApiError(404, {"code": "device_not_found", "message": message})


def _read_password(given: str | None, language: str) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise UsageError(text("cli.admin.no_password", language))
        return line
    first = getpass.getpass(text("cli.admin.new_password", language))
    if not first or first != getpass.getpass(text("cli.admin.repeat_password", language)):
        raise UsageError(text("cli.admin.passwords_differ", language))
    return first


# Showing answers -----------------------------------------------------------------------------


def _show_device(device: dict[str, Any], language: str) -> None:
    print(
        text(
            "cli.admin.device",
            language,
            pin=device["pin"],
            name=device["name"],
            hardware_id=device["hardware_id"],
            status=word(device["status"], language),
            mode=word(device["mode"], language),
            device_id=device["device_id"],
        )
    )


def _show_devices(devices: list[dict[str, Any]], language: str) -> None:
    _table(
        [
            (
                d["pin"],
                d["name"],
                d["model"],
                word(d["mode"], language),
                word(d["status"], language),
                d["hardware_id"],
                d["device_id"],
            )
            for d in devices
        ],
        columns(language, "pin", "name", "model", "mode", "status", "hardware_id", "device_id"),
    )


def _show_user(user: dict[str, Any], language: str) -> None:
    groups = ", ".join(user["groups"]) or "-"
    print(text("cli.admin.user", language, login=user["login"], name=user["name"], groups=groups))


def _show_group(group: dict[str, Any], language: str) -> None:
    members = ", ".join(group["members"]) or text("cli.admin.no_members", language)
    print(text("cli.admin.group", language, group=group["group"], members=members))


# Tenants -------------------------------------------------------------------------------------


async def _tenant_create(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.create_tenant(args.name, args.id)


def _show_created_tenant(created: dict[str, Any], language: str) -> None:
    print(
        text("cli.admin.tenant_created", language, tenant=created["tenant"], name=created["name"])
    )
    print(text("cli.admin.api_key", language, key=created["api_key"]))
    print(text("cli.admin.connection_code", language, code=created["connection_code"]))
    _show_code_qr(created["connection_code"], language)
    print(text("cli.admin.write_down", language))


def _show_code_qr(code: str, language: str) -> None:
    print(text("cli.admin.code_as_qr", language))
    print(qr_text(code))


async def _tenant_list(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.tenants()


def _show_tenants(tenants: list[dict[str, Any]], language: str) -> None:
    _table(
        [
            (t["tenant"], t["name"], word(t["status"], language), t.get("devices", ""))
            for t in tenants
        ],
        columns(language, "tenant", "name", "status", "devices"),
    )


async def _tenant_rotate_key(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.rotate_api_key(args.tenant_id)


def _show_key(rotated: dict[str, Any], language: str) -> None:
    print(text("cli.admin.new_key", language, tenant=rotated["tenant"], key=rotated["api_key"]))
    print(text("cli.admin.old_key_refused", language))


async def _tenant_rotate_code(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.rotate_connection_code(args.tenant_id)


def _show_code(rotated: dict[str, Any], language: str) -> None:
    code = rotated["connection_code"]
    print(text("cli.admin.new_code", language, tenant=rotated["tenant"], code=code))
    _show_code_qr(code, language)
    print(text("cli.admin.devices_stay", language))


def _register_tenant(commands: Commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("tenant", help="accounting bases: create, list, rotate secrets")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = sub.add_parser("create", parents=[common], help="create a base (secrets shown once)")
    create.add_argument("name", help="the base's name, e.g. 'Склад на Ленина'")
    create.add_argument(
        "--id", help="the tenant id (a-z, 0-9, '-'); made from the name if left out"
    )
    create.set_defaults(run=_run(_tenant_create, _show_created_tenant))

    listing = sub.add_parser("list", parents=[common], help="list the bases")
    listing.set_defaults(run=_run(_tenant_list, _show_tenants))

    rotate = sub.add_parser("rotate-key", parents=[common], help="issue a new API key")
    rotate.add_argument("tenant_id", metavar="TENANT")
    rotate.set_defaults(run=_run(_tenant_rotate_key, _show_key))

    code = sub.add_parser("rotate-code", parents=[common], help="issue a new connection code")
    code.add_argument("tenant_id", metavar="TENANT")
    code.set_defaults(run=_run(_tenant_rotate_code, _show_code))


# Devices -------------------------------------------------------------------------------------


async def _device_list(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.devices(args.tenant, args.status)


def _device_action(name: str) -> Action:
    async def action(client: AdminClient, args: argparse.Namespace) -> Any:
        device_id = await _device_id(client, args, args.device)
        match name:
            case "block":
                return await client.block_device(args.tenant, device_id)
            case "unblock":
                return await client.unblock_device(args.tenant, device_id)
            case "retire":
                return await client.retire_device(args.tenant, device_id)
            case "rename":
                return await client.update_device(args.tenant, device_id, name=args.name)
            case "mode":
                return await client.update_device(args.tenant, device_id, mode=args.mode)
        raise ValueError(name)  # the actions are registered below: a mistake in the program

    return action


async def _device_replace(client: AdminClient, args: argparse.Namespace) -> Any:
    old = await _device_id(client, args, args.old)
    new = await _device_id(client, args, args.new)
    return await client.replace_device(args.tenant, old, new)


def _show_replaced(replaced: dict[str, Any], language: str) -> None:
    old, new = replaced["old"], replaced["new"]
    print(
        text(
            "cli.admin.replaced",
            language,
            new_name=new["name"],
            new_hardware_id=new["hardware_id"],
            old_name=old["name"],
            old_hardware_id=old["hardware_id"],
            pin=new["pin"],
        )
    )


def _register_device(commands: Commands, tenant_scoped: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("device", help="a base's terminals: list, block, retire, replace")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = sub.add_parser("list", parents=[tenant_scoped], help="list the base's devices")
    listing.add_argument("--status", choices=("active", "blocked", "retired"))
    listing.set_defaults(run=_run(_device_list, _show_devices))

    helps = {
        "block": "refuse the device from now on (it keeps its PIN)",
        "unblock": "let a blocked device in again",
        "retire": "take the device out of service for good",
    }
    for name, help_text in helps.items():
        cmd = sub.add_parser(name, parents=[tenant_scoped], help=help_text)
        cmd.add_argument("device", metavar="DEVICE", help="device id or PIN")
        cmd.set_defaults(run=_run(_device_action(name), _show_device))

    rename = sub.add_parser("rename", parents=[tenant_scoped], help="give the device a new name")
    rename.add_argument("device", metavar="DEVICE", help="device id or PIN")
    rename.add_argument("name", metavar="NAME")
    rename.set_defaults(run=_run(_device_action("rename"), _show_device))

    mode = sub.add_parser("mode", parents=[tenant_scoped], help="switch online/offline")
    mode.add_argument("device", metavar="DEVICE", help="device id or PIN")
    mode.add_argument("mode", choices=("online", "offline"))
    mode.set_defaults(run=_run(_device_action("mode"), _show_device))

    replace = sub.add_parser(
        "replace",
        parents=[tenant_scoped],
        help="replace a broken terminal by a paired one (PIN and waiting documents move)",
    )
    replace.add_argument("old", metavar="OLD", help="the broken device: id or PIN")
    replace.add_argument("new", metavar="NEW", help="the new, already paired device: id or PIN")
    replace.set_defaults(run=_run(_device_replace, _show_replaced))


# Users ---------------------------------------------------------------------------------------


async def _user_create(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.create_user(
        args.tenant, args.login, name=args.name, password=args.password, barcode=args.barcode
    )


async def _user_list(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.users(args.tenant)


def _show_users(users: list[dict[str, Any]], language: str) -> None:
    _table(
        [
            (
                u["login"],
                u["name"],
                ", ".join(u["groups"]),
                word("yes" if u["has_password"] else "no", language),
                word("yes" if u["has_barcode"] else "no", language),
            )
            for u in users
        ],
        columns(language, "login", "name", "groups", "password", "barcode"),
    )


async def _user_delete(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.delete_user(args.tenant, args.login)


def _show_deleted(answer: dict[str, Any], language: str) -> None:
    print(text("cli.admin.deleted", language, name=answer.get("login") or answer.get("group")))


async def _user_passwd(client: AdminClient, args: argparse.Namespace) -> Any:
    changes: dict[str, str | None] = {}
    if args.clear_barcode:
        changes["barcode"] = None
    elif args.barcode is not None:
        changes["barcode"] = args.barcode
    if args.password is not None or not changes:
        changes["password"] = _read_password(args.password, args.lang)
    return await client.update_user(args.tenant, args.login, **changes)


async def _user_rename(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.update_user(args.tenant, args.login, name=args.name)


def _register_user(commands: Commands, tenant_scoped: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("user", help="users who log in on LAN terminals")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = sub.add_parser("create", parents=[tenant_scoped], help="create a user")
    create.add_argument("login", metavar="LOGIN")
    create.add_argument("--name", help="the name shown (default: the login)")
    create.add_argument("--password")
    create.add_argument("--barcode", help="the user's badge barcode, to log in by scanning it")
    create.set_defaults(run=_run(_user_create, _show_user))

    listing = sub.add_parser("list", parents=[tenant_scoped], help="list the base's users")
    listing.set_defaults(run=_run(_user_list, _show_users))

    delete = sub.add_parser("delete", parents=[tenant_scoped], help="delete a user")
    delete.add_argument("login", metavar="LOGIN")
    delete.set_defaults(run=_run(_user_delete, _show_deleted))

    passwd = sub.add_parser(
        "passwd",
        parents=[tenant_scoped],
        help="set the password (asked for when not given) and/or the badge barcode",
    )
    passwd.add_argument("login", metavar="LOGIN")
    passwd.add_argument("--password")
    barcode = passwd.add_mutually_exclusive_group()
    barcode.add_argument("--barcode")
    barcode.add_argument("--clear-barcode", action="store_true", help="remove the badge barcode")
    passwd.set_defaults(run=_run(_user_passwd, _show_user))

    rename = sub.add_parser("rename", parents=[tenant_scoped], help="change the name shown")
    rename.add_argument("login", metavar="LOGIN")
    rename.add_argument("name", metavar="NAME")
    rename.set_defaults(run=_run(_user_rename, _show_user))


# Groups --------------------------------------------------------------------------------------


async def _group_create(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.create_group(args.tenant, args.group)


async def _group_list(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.groups(args.tenant)


def _show_groups(groups: list[dict[str, Any]], language: str) -> None:
    _table(
        [(g["group"], ", ".join(g["members"])) for g in groups],
        columns(language, "group", "members"),
    )


async def _group_add(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.add_member(args.tenant, args.group, args.login)


async def _group_remove(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.remove_member(args.tenant, args.group, args.login)


async def _group_rename(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.rename_group(args.tenant, args.group, args.name)


async def _group_delete(client: AdminClient, args: argparse.Namespace) -> Any:
    return await client.delete_group(args.tenant, args.group)


def _register_group(commands: Commands, tenant_scoped: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("group", help="groups of users ('everyone' is implicit)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = sub.add_parser("create", parents=[tenant_scoped], help="create a group")
    create.add_argument("group", metavar="GROUP")
    create.set_defaults(run=_run(_group_create, _show_group))

    listing = sub.add_parser("list", parents=[tenant_scoped], help="list groups and members")
    listing.set_defaults(run=_run(_group_list, _show_groups))

    for name, action, help_text in (
        ("add", _group_add, "add a user to a group"),
        ("remove", _group_remove, "take a user out of a group"),
    ):
        cmd = sub.add_parser(name, parents=[tenant_scoped], help=help_text)
        cmd.add_argument("group", metavar="GROUP")
        cmd.add_argument("login", metavar="LOGIN")
        cmd.set_defaults(run=_run(action, _show_group))

    rename = sub.add_parser("rename", parents=[tenant_scoped], help="rename a group")
    rename.add_argument("group", metavar="GROUP")
    rename.add_argument("name", metavar="NEW_NAME")
    rename.set_defaults(run=_run(_group_rename, _show_group))

    delete = sub.add_parser("delete", parents=[tenant_scoped], help="delete a group")
    delete.add_argument("group", metavar="GROUP")
    delete.set_defaults(run=_run(_group_delete, _show_deleted))


def register(commands: Commands) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=default_gateway_url(),
        help=URL_HELP,
    )
    common.add_argument("--admin-token", help="operator token (default: $TSDX_ADMIN_TOKEN)")
    common.add_argument("--json", action="store_true", help="print the answer as JSON")
    add_language_option(common)
    common.add_argument(
        "--timeout", type=number, default=30.0, help="seconds to wait for an answer"
    )
    tenant_scoped = argparse.ArgumentParser(add_help=False, parents=[common])
    tenant_scoped.add_argument("--tenant", "-t", required=True, help="the base (tenant id)")

    _register_tenant(commands, common)
    _register_device(commands, tenant_scoped)
    _register_user(commands, tenant_scoped)
    _register_group(commands, tenant_scoped)
