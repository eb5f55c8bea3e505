"""How LAN documents are shown: to a logged-in user on a terminal, and to an operator."""

from __future__ import annotations

from typing import Any

from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.locks import Lock
from shared.i18n import render
from shared.storage import Doc


def _refusal(raw: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {**raw, "message": render(raw["code"], language, raw.get("params"))}


def _common(row: Doc) -> dict[str, Any]:
    header = row["document"]["header"]
    return {
        "delivery_id": row["id"],
        "document_id": row["document_id"],
        "version": row["version"],
        "process": row["process"],
        "accounting_type": header["accounting_type"],
        "terminal_type": row["settings"]["terminal_type"],
        "number": header["number"],
        "date": header["date"],
        "counterparty": header["counterparty"],
        "warehouse": header["warehouse"],
        "lines": len(row["document"]["lines"]),
        "assigned_to": repo.target_of(row["assignee"]),
        "collective": row["collective"],
        "state": row["state"],
        "taken_by": row["holders"],
    }


def for_user(row: Doc, user: LanUser, language: str) -> dict[str, Any]:
    """One line of the user's list: whom it is taken by, whether by them, why it was refused."""
    lock = Lock.of(row)
    return {
        **_common(row),
        "mine": lock.holds(user.login),
        "finished_by_me": user.login in lock.finished,
        "refusal": _refusal(row["refusals"].get(user.login), language),
    }


def document_for_user(row: Doc, user: LanUser, language: str) -> dict[str, Any]:
    shown = for_user(row, user, language)
    return {**shown, "settings": row["settings"], "document": row["document"]}


def for_operator(row: Doc, language: str) -> dict[str, Any]:
    """Everything about the lock: who holds it since when, who finished, who lost it and why."""
    return {
        **_common(row),
        "tenant": row["tenant"],
        "request_id": row["request_id"],
        "routed_at": row["routed_at"],
        "finished_by": row["finished"],
        "lost_by": row["lost"],
        "released": row.get("released"),
        "reassigned": row.get("reassigned"),
        "withdrawn_reason": row.get("withdrawn_reason"),
        "refusals": {u: _refusal(r, language) for u, r in row["refusals"].items()},
    }


def result(record: Doc, language: str) -> dict[str, Any]:
    """A result as received; ``status`` turns ``refused`` if routing refuses it later."""
    shown: dict[str, Any] = {
        "delivery_id": record["delivery_id"],
        "result_id": record["result_id"],
        "final": record["final"],
        "completes_document": record["completes"],
        "status": record["status"],
    }
    if record["status"] == "refused":
        shown["refusal"] = _refusal({"code": record["code"], "params": record["params"]}, language)
    return shown
