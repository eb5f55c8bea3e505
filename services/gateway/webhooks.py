"""Webhooks: documents finished on online devices, pushed to the base's own HTTPS address.

A base sets its address with its API key (``PUT /api/v1/settings/webhook``, api/webhooks.py)
and is shown its signing secret once. Each push is a POST of the same JSON the accounting API
serves for one result, wrapped with the event's id; ``X-Tsdx-Signature`` carries ``sha256=``
and the hex HMAC-SHA256 of the raw body under that secret. A push that fails is tried again after
growing pauses; every attempt is kept in the delivery log. A 2xx answer means the base has
loaded the document, so it is marked loaded as by ``POST /results/{id}/loaded``.

The address must be public unless an operator allowed its network (shared/outbound.py),
checked when it is set and again where each push connects (webhook_address.py). The signing
secret is kept encrypted (shared/secret_box.py).

This module holds the use cases (queue a push, the base's settings, the delivery log); the
pure delivery policy is webhook_policy.py, the background sender webhook_sender.py.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

from services.gateway import repository as repo
from services.gateway import returns
from services.gateway.parts import gateway_parts
from services.gateway.records import CompletedDocument, Webhook, WebhookPush
from services.gateway.results import result_view
from services.gateway.webhook_policy import check_url, iso
from shared.clock import now as _now
from shared.contracts import Envelope
from shared.errors import Refusal
from shared.logging import get_logger
from shared.outbound import allowed_networks
from shared.secret_box import SecretBox, SecretUnreadable
from shared.security import new_token
from shared.service import Runtime
from shared.storage import DuplicateKeyError, Session

log = get_logger("tsdx.gateway.webhooks")

EVENT = "document.completed"
WAKE_KEY = "webhooks"
DeliveryState = Literal["pending", "delivered", "failed", "cancelled"]


# ---- enqueueing (inside the transaction that stores the completed document) -------------


async def enqueue(db: Session, envelope: Envelope, completed: CompletedDocument) -> bool:
    """Queue a push of a completed document if its base has a webhook; True if queued."""
    tenant = completed.tenant
    if await repo.webhook(db, tenant) is None:
        return False
    event = returns.EVENT if completed.state == returns.STATE else EVENT
    body = {
        "event": event,
        "event_id": envelope.id,
        "occurred_at": envelope.time.isoformat(),
        "tenant": tenant,
        "document": result_view(completed),
    }
    now = iso(_now())
    push = WebhookPush(
        id=envelope.id,
        tenant=tenant,
        event=event,
        document_id=completed.result["document_id"],
        body=orjson.dumps(body).decode(),
        state="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    await repo.add_push(db, push)
    return True


# ---- the base's settings ------------------------------------------------------------------


async def configure(rt: Runtime, tenant: str, url: str, *, rotate: bool) -> dict[str, Any]:
    """Set the base's address (checked by the outbound policy); a new signing secret is in
    the answer, once, when the base had none or asked for a new one."""
    settings, box = rt.settings, gateway_parts(rt).secret_box
    url = check_url(
        url,
        allow_http_loopback=settings.webhook_allow_http_loopback,
        allowed=allowed_networks(settings.webhook_allowed_networks),
    )
    now = iso(_now())
    current = await repo.webhook(rt.store, tenant)
    if current is None:
        secret = new_token("whsec", 32)
        try:
            hook = Webhook(tenant=tenant, url=url, updated_at=now, sealed_secret=box.seal(secret))
            await repo.add_webhook(rt.store, hook)
            return {"configured": True, "url": url, "updated_at": now, "secret": secret}
        except DuplicateKeyError:  # set at the same moment by another call: update that one
            current = await repo.webhook(rt.store, tenant)
            if current is None:
                raise Refusal("storage_unavailable", 503) from None
    answer: dict[str, Any] = {"configured": True, "url": url, "updated_at": now}
    sealed = None
    if rotate:
        answer["secret"] = new_token("whsec", 32)
        sealed = box.seal(answer["secret"])
    await repo.change_webhook(rt.store, tenant, url, now, sealed_secret=sealed)
    return answer


async def current(rt: Runtime, tenant: str) -> dict[str, Any]:
    """The base's address (the secret is never shown again)."""
    hook = await repo.webhook(rt.store, tenant)
    if hook is None:
        return dict(NOT_CONFIGURED)
    return {"configured": True, "url": hook.url, "updated_at": hook.updated_at}


async def remove(rt: Runtime, tenant: str) -> dict[str, Any]:
    await repo.remove_webhook(rt.store, tenant)
    return dict(NOT_CONFIGURED)


NOT_CONFIGURED: dict[str, Any] = {"configured": False, "url": None, "updated_at": None}


async def delivery_log(
    rt: Runtime, tenant: str, state: DeliveryState | None, limit: int
) -> list[dict[str, Any]]:
    """Every push and its attempts, newest first."""
    return [
        log_entry(push) for push in await repo.webhook_deliveries(rt.store, tenant, state, limit)
    ]


def log_entry(push: WebhookPush) -> dict[str, Any]:
    """A push as the base's delivery log shows it. Alike in shape to other views of a record
    (registry/tenants.py's tenant_record): each names what its own reader sees."""
    return {
        "delivery_id": push.id,
        "event": push.event,
        "document_id": push.document_id,
        "state": push.state,
        "attempts": push.attempts,
        "created_at": push.created_at,
        "next_attempt_at": push.next_attempt_at if push.state == "pending" else None,
        "delivered_at": push.delivered_at,
        "last_status": push.last_status,
        "last_error": push.last_error,
        "history": list(push.history),
    }


async def reseal_secrets(store: Session, box: SecretBox) -> int:
    """Seal every webhook secret under the first key (after a key rotation), and seal any kept
    in clear by an older version; how many were changed. Safe with several gateways starting
    at once: each change is a compare-and-set on what was read."""
    changed = 0
    for hook in await repo.webhooks(store):
        if hook.clear_secret:
            new = box.seal(hook.clear_secret)
        elif hook.sealed_secret and not box.is_current(hook.sealed_secret):
            try:
                new = box.reseal(hook.sealed_secret)
            except SecretUnreadable:
                log.warning("webhook.secret_unreadable", tenant=hook.tenant)
                continue
        else:
            continue
        if await repo.reseal_webhook(store, hook, new):
            changed += 1
    return changed
