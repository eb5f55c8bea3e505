"""How LAN documents are shown: to a logged-in user on a terminal, and to an operator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.repository import LanCopy, LanSession, SentResult
from shared.i18n import render


def _refusal(raw: Mapping[str, Any] | None, language: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {**raw, "message": render(raw["code"], language, raw.get("params"))}


def _holders(copy: LanCopy) -> list[dict[str, str]]:
    return [{"login": h.login, "since": h.since} for h in copy.lock.holders]


def _common(copy: LanCopy) -> dict[str, Any]:
    header = copy.header
    return {
        "delivery_id": copy.id,
        "document_id": copy.document_id,
        "version": copy.version,
        "process": copy.process,
        "accounting_type": header["accounting_type"],
        "terminal_type": copy.settings["terminal_type"],
        "number": header["number"],
        "date": header["date"],
        "counterparty": header["counterparty"],
        "warehouse": header["warehouse"],
        "comment": header.get("comment", ""),
        "lines": len(copy.document["lines"]),
        "assigned_to": repo.target_of(copy.assignee),
        "collective": copy.lock.collective,
        "state": copy.state,
        "taken_by": _holders(copy),
    }


def for_user(copy: LanCopy, user: LanUser, language: str) -> dict[str, Any]:
    """One line of the user's list: whom it is taken by, whether by them, why it was refused."""
    lock = copy.lock
    return {
        **_common(copy),
        "mine": lock.holds(user.login),
        "finished_by_me": user.login in lock.finished,
        "refusal": _refusal(copy.refusals.get(user.login), language),
    }


def document_for_user(copy: LanCopy, user: LanUser, language: str) -> dict[str, Any]:
    shown = for_user(copy, user, language)
    return {**shown, "settings": copy.settings, "document": copy.document}


def for_operator(copy: LanCopy, language: str) -> dict[str, Any]:
    """Everything about the lock: who holds it since when, who finished, who lost it and why."""
    return {
        **_common(copy),
        "tenant": copy.tenant,
        "request_id": copy.request_id,
        "routed_at": copy.routed_at,
        "finished_by": list(copy.lock.finished),
        "lost_by": dict(copy.lock.lost),
        "released": copy.released,
        "reassigned": copy.reassigned,
        "withdrawn_reason": copy.lock.withdrawn_reason or None,
        "refusals": {u: _refusal(r, language) for u, r in copy.refusals.items()},
    }


def held_lock(copy: LanCopy) -> dict[str, Any]:
    """A document taken right now: by whom and since when."""
    return {
        "delivery_id": copy.id,
        "document_id": copy.document_id,
        "number": copy.header["number"],
        "collective": copy.lock.collective,
        "holders": _holders(copy),
    }


def result(record: SentResult, language: str) -> dict[str, Any]:
    """A result as received; ``status`` turns ``refused`` if routing refuses it later."""
    shown: dict[str, Any] = {
        "delivery_id": record.delivery_id,
        "result_id": record.result_id,
        "final": record.final,
        "completes_document": record.completes,
        "status": record.status,
    }
    if record.status == "refused":
        refusal = {"code": record.code, "params": record.params}
        shown["refusal"] = _refusal(refusal, language)
    return shown


def session(token: str, session: LanSession) -> dict[str, Any]:
    """The answer to a log-in: the token (shown once) and whom it stands for."""
    return {
        "token": token,
        "expires_at": session.expires_at,
        "tenant": session.tenant,
        "login": session.login,
        "name": session.name,
        "groups": list(session.groups),
        "device_id": session.device_id,
    }
