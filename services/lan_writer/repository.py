"""LAN base storage: documents (one row per routed copy), log-in sessions, results sent.

A document row's id is the delivery id routing gave the copy, so a copy is written once
however often its message is delivered. ``assignee`` is one string naming whom the copy is
for (see :func:`assignee_key`), so "everything this user may see" is a single query.
"""

from __future__ import annotations

import hashlib

from shared.catalog.repository import COPY_COLLECTIONS as CATALOG_COLLECTIONS
from shared.contracts.documents import Target
from shared.limits import ATTEMPTS
from shared.storage import Collection, Index

DOCUMENTS = Collection(
    "documents",
    (
        Index(("tenant", "assignee", "state")),
        Index(("tenant", "state")),
        Index(("tenant", "document_id")),
    ),
)
# Keyed by the hash of the session token; the token itself is never stored.
SESSIONS = Collection("sessions", (Index(("tenant", "login")),))
# Keyed by :func:`result_key`: a result re-sent by the terminal is applied once.
RESULTS = Collection("results", (Index(("delivery_id",)),))

# Copies of the registry's tenants (kept by ``tenant.changed``): what the LAN terminals need of
# their base, its barcode settings.
TENANTS = Collection("tenants", ())

# ATTEMPTS: log-in guesses (shared.limits); the copy of every base's catalog, served to
# terminals (shared.catalog.repository).
COLLECTIONS = (DOCUMENTS, SESSIONS, RESULTS, TENANTS, ATTEMPTS, *CATALOG_COLLECTIONS)

EVERYONE = "everyone"
# Documents a user may still work on; done and withdrawn ones leave the lists.
OPEN_STATES = ("free", "taken")


def assignee_key(target: Target) -> str:
    """``user:<login>``, ``group:<name>``, ``device:<id>`` or ``everyone``."""
    if target.kind == "everyone":
        return EVERYONE
    return f"{target.kind}:{target.value}"


def target_of(assignee: str) -> dict[str, str | None]:
    if assignee == EVERYONE:
        return {"kind": EVERYONE, "value": None}
    kind, _, value = assignee.partition(":")
    return {"kind": kind, "value": value}


def keys_for(login: str, groups: list[str], device_id: str | None) -> list[str]:
    """Every assignee key whose documents a logged-in user sees."""
    keys = [f"user:{login}", *(f"group:{g}" for g in groups), EVERYONE]
    if device_id:
        keys.append(f"device:{device_id}")
    return keys


def result_key(delivery_id: str, login: str, result_id: str) -> str:
    """One id per (copy, user, terminal's result id): users of a shared copy never collide."""
    return hashlib.sha256(f"{delivery_id}\n{login}\n{result_id}".encode()).hexdigest()
