"""The key of a record within its base (tenant): what the accounting side or an operator names
(a request, a document, a process, a user, a group ...) is unique only within a base, so its
key is the base's id, a colon, then its own id."""

from __future__ import annotations


def tenant_key(tenant: str, own_id: str) -> str:
    return f"{tenant}:{own_id}"


def own_id(key: str, tenant: str) -> str:
    """The record's own id back from its :func:`tenant_key`."""
    return key[len(tenant) + 1 :]
