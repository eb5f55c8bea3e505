"""The audit trail of operators' changes: one log line ``audit.<action>`` and one counted action.

Each state-changing admin endpoint records who did what to which tenant and object, and how
it ended (``ok``, ``refused`` with the refusal's code, or ``failed``). Details are names,
ids and counts only: a secret (key, code, credential, password, badge) never goes into them.
The line carries the request's correlation id like every other log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.errors import Refusal
from shared.logging import get_logger
from shared.metrics import ADMIN_ACTIONS

log = get_logger("tsdx.audit")

# Every admin endpoint authenticates with the one operators' token.
ADMIN = "admin"

Outcome = Literal["ok", "refused", "failed"]


def audit(
    action: str,
    *,
    actor: str,
    tenant: str | None,
    target: str | None,
    outcome: Outcome,
    **details: Any,
) -> None:
    """Record one admin action; ``details`` must hold no secret."""
    ADMIN_ACTIONS.labels(action, outcome).inc()
    log.info(
        f"audit.{action}", actor=actor, tenant=tenant, target=target, outcome=outcome, **details
    )


@dataclass
class AuditEntry:
    """What an action is about; the endpoint may fill in what it learns while acting."""

    action: str
    actor: str
    tenant: str | None
    target: str | None
    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(
    action: str, *, actor: str = ADMIN, tenant: str | None, target: str | None, **details: Any
) -> Iterator[AuditEntry]:
    """Audit the block: ``ok`` when it returns, ``refused`` (with the code) or ``failed`` when
    it raises; the exception goes on unchanged."""
    entry = AuditEntry(action, actor, tenant, target, dict(details))
    try:
        yield entry
    except Refusal as refusal:
        _record(entry, "refused", code=refusal.code)
        raise
    except Exception as exc:
        _record(entry, "failed", error=type(exc).__name__)
        raise
    _record(entry, "ok")


def _record(entry: AuditEntry, outcome: Outcome, **more: Any) -> None:
    audit(
        entry.action,
        actor=entry.actor,
        tenant=entry.tenant,
        target=entry.target,
        outcome=outcome,
        **entry.details,
        **more,
    )
