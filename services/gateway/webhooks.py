"""Webhooks: documents finished on online devices, pushed to the base's own HTTPS address.

A base sets its address with its API key (``PUT /api/v1/settings/webhook``) and is shown its
signing secret once. Each push is a POST of the same JSON the accounting API serves for one
result, wrapped with the event's id; ``X-Tsdx-Signature`` carries ``sha256=`` and the hex
HMAC-SHA256 of the raw body under that secret. A push that fails is tried again after
growing pauses; every attempt is kept in the delivery log. A 2xx answer means the base has
loaded the document, so it is marked loaded as by ``POST /results/{id}/loaded``.

The address must be public unless an operator allowed its network (shared/outbound.py),
checked when it is set and again where each push connects (webhook_address.py). The signing
secret is kept encrypted (shared/secret_box.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
import orjson
from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from services.gateway import repository as repo
from services.gateway.accounting import mark_loaded, result_view
from services.gateway.auth import TenantDep
from services.gateway.notifier import Notifier
from services.gateway.webhook_address import (
    AddressNotAllowed,
    HostUnresolved,
    Resolve,
    checked_address,
    pinned,
    resolve_host,
)
from services.gateway.wire import ensure_portable
from shared.contracts import Envelope
from shared.contracts.absent import NullMeansAbsent
from shared.errors import Refusal
from shared.logging import get_logger
from shared.metrics import WEBHOOK_ATTEMPTS
from shared.outbound import Network, allowed_networks, host_refusal, is_local_name, literal_address
from shared.secret_box import SecretBox, SecretUnreadable
from shared.security import new_token
from shared.service import Runtime, RuntimeDep
from shared.storage import Doc, DuplicateKeyError, Session, StorageError

log = get_logger("tsdx.gateway.webhooks")

router = APIRouter(prefix="/api/v1/settings/webhook", tags=["webhooks"])

EVENT = "document.completed"
SIGNATURE_HEADER = "X-Tsdx-Signature"
WAKE_KEY = "webhooks"
# How many attempts a delivery keeps in its log, how many pushes run at once, how many
# pending deliveries one pass looks at, and the longest pause between passes.
_HISTORY = 20
_PARALLEL = 10
_BATCH = 100
_IDLE_SECONDS = 1.0

DeliveryState = Literal["pending", "delivered", "failed", "cancelled"]


class WebhookSettings(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(
        min_length=1,
        max_length=2000,
        examples=["https://1c.example.ru/trade/hs/tsdx/completed"],
        description="HTTPS address that receives finished online documents",
    )
    rotate_secret: bool = Field(
        default=False, description="issue a new signing secret (the old one stops working)"
    )


# ---- pure rules -------------------------------------------------------------------------


def check_url(url: str, *, allow_http_loopback: bool, allowed: Sequence[Network] = ()) -> str:
    """The address if acceptable: https (http only to loopback when allowed), a host, no
    credentials in it, not a local or private address (unless its network is allowed);
    otherwise a refusal saying which rule it broke. Names are checked again, resolved, when a
    push connects."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Refusal("webhook_url_invalid", 422) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or any(c.isspace() for c in url)
    ):
        raise Refusal("webhook_url_invalid", 422)
    if parts.scheme == "http" and not (allow_http_loopback and _is_loopback(parts.hostname)):
        raise Refusal("webhook_https_required", 422)
    reason = host_refusal(parts.hostname, allowed)
    if reason is not None:
        raise Refusal("webhook_address_not_allowed", 422, reason=reason)
    return url


def _is_loopback(host: str) -> bool:
    if is_local_name(host):
        return True
    address = literal_address(host)
    return address is not None and address.is_loopback


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """The pause after ``attempts`` failed attempts: base, 2·base, 4·base, … up to cap."""
    exponent = min(max(attempts - 1, 0), 30)
    return min(cap, base * float(2**exponent))


def _iso(at: datetime) -> str:
    # Fixed width, so stored times also sort as text.
    return at.isoformat(timespec="microseconds")


def _now() -> datetime:
    return datetime.now(UTC)


# ---- enqueueing (inside the transaction that stores the completed document) -------------


async def enqueue(db: Session, envelope: Envelope, completed: Doc) -> bool:
    """Queue a push of a completed document if its base has a webhook; True if queued."""
    tenant = completed["tenant"]
    if await db.get(repo.WEBHOOKS.name, tenant) is None:
        return False
    body = {
        "event": EVENT,
        "event_id": envelope.id,
        "occurred_at": envelope.time.isoformat(),
        "tenant": tenant,
        "document": result_view(completed),
    }
    now = _iso(_now())
    await db.insert(
        repo.WEBHOOK_DELIVERIES.name,
        {
            "id": envelope.id,
            "tenant": tenant,
            "event": EVENT,
            "document_id": completed["result"]["document_id"],
            "body": orjson.dumps(body).decode(),
            "state": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "history": [],
        },
    )
    return True


# ---- the base's settings ------------------------------------------------------------------


@router.put(
    "",
    summary="Set this base's webhook address; the signing secret is shown once",
    responses={422: {"description": "The address is not https or not a full address"}},
)
async def set_webhook(body: WebhookSettings, rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    ensure_portable(body)
    url = check_url(
        body.url,
        allow_http_loopback=rt.settings.webhook_allow_http_loopback,
        allowed=allowed_networks(rt.settings.webhook_allowed_networks),
    )
    box: SecretBox = rt.state["secret_box"]
    now = _iso(_now())
    current = await rt.store.get(repo.WEBHOOKS.name, tenant["id"])
    if current is None:
        secret = new_token("whsec", 32)
        try:
            await rt.store.insert(
                repo.WEBHOOKS.name,
                {
                    "id": tenant["id"],
                    "url": url,
                    "sealed_secret": box.seal(secret),
                    "updated_at": now,
                },
            )
            return {"configured": True, "url": url, "updated_at": now, "secret": secret}
        except DuplicateKeyError:  # set at the same moment by another call: update that one
            current = await rt.store.get(repo.WEBHOOKS.name, tenant["id"])
            if current is None:
                raise Refusal("storage_unavailable", 503) from None
    changes: Doc = {"url": url, "updated_at": now}
    answer: dict[str, Any] = {"configured": True, "url": url, "updated_at": now}
    if body.rotate_secret:
        answer["secret"] = new_token("whsec", 32)
        changes.update(sealed_secret=box.seal(answer["secret"]), secret=None)
    await rt.store.update(repo.WEBHOOKS.name, tenant["id"], changes)
    return answer


@router.get("", summary="This base's webhook address (the secret is never shown again)")
async def get_webhook(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    hook = await rt.store.get(repo.WEBHOOKS.name, tenant["id"])
    if hook is None:
        return {"configured": False, "url": None, "updated_at": None}
    return {"configured": True, "url": hook["url"], "updated_at": hook["updated_at"]}


@router.delete("", summary="Stop pushing; pending pushes are cancelled")
async def delete_webhook(rt: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    await rt.store.delete(repo.WEBHOOKS.name, tenant["id"])
    return {"configured": False, "url": None, "updated_at": None}


@router.get("/deliveries", summary="The delivery log: every push and its attempts, newest first")
async def deliveries(
    rt: RuntimeDep,
    tenant: TenantDep,
    state: Annotated[
        DeliveryState | None, Query(description="only deliveries in this state")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    where: dict[str, Any] = {"tenant": tenant["id"]}
    if state is not None:
        where["state"] = state
    rows = await rt.store.find(
        repo.WEBHOOK_DELIVERIES.name, where, order_by="created_at", descending=True, limit=limit
    )
    return {"deliveries": [_log_entry(r) for r in rows]}


def _log_entry(row: Doc) -> dict[str, Any]:
    return {
        "delivery_id": row["id"],
        "event": row["event"],
        "document_id": row["document_id"],
        "state": row["state"],
        "attempts": row["attempts"],
        "created_at": row["created_at"],
        "next_attempt_at": row["next_attempt_at"] if row["state"] == "pending" else None,
        "delivered_at": row.get("delivered_at"),
        "last_status": row.get("last_status"),
        "last_error": row.get("last_error"),
        "history": row["history"],
    }


# ---- where a push connects ------------------------------------------------------------------

# What the delivery log says when no HTTP answer came.
NO_ANSWER = "no answer from the address (no connection, or no answer in time)"
UNRESOLVED = "the host name could not be resolved"
NOT_ALLOWED = "address not allowed"
SECRET_UNREADABLE = "the signing secret cannot be read with the configured keys"


async def reseal_secrets(store: Session, box: SecretBox) -> int:
    """Seal every webhook secret under the first key (after a key rotation), and seal any kept
    in clear by an older version; how many were changed. Safe with several gateways starting
    at once: each change is a compare-and-set on what was read."""
    changed = 0
    for hook in await store.find(repo.WEBHOOKS.name):
        clear = hook.get("secret")
        sealed = hook.get("sealed_secret")
        if clear:
            new = box.seal(clear)
            expect: dict[str, Any] = {"secret": clear}
        elif sealed and not box.is_current(sealed):
            try:
                new = box.reseal(sealed)
            except SecretUnreadable:
                log.warning("webhook.secret_unreadable", tenant=hook["id"])
                continue
            expect = {"sealed_secret": sealed}
        else:
            continue
        changes = {"sealed_secret": new, "secret": None}
        if await store.update(repo.WEBHOOKS.name, hook["id"], changes, expect=expect):
            changed += 1
    return changed


# ---- the sender -----------------------------------------------------------------------------


class WebhookSender:
    """Sends due pushes in the background; any gateway replica may send any push (a push
    is claimed by compare-and-set before it is sent)."""

    def __init__(self, rt: Runtime, notifier: Notifier, resolve: Resolve | None = None) -> None:
        self._rt = rt
        self._notifier = notifier
        self._settings = rt.settings
        self._box: SecretBox = rt.state["secret_box"]
        self._allowed = allowed_networks(rt.settings.webhook_allowed_networks)
        self._resolve = resolve or resolve_host
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._parallel = asyncio.Semaphore(_PARALLEL)

    def open(self) -> None:
        """The HTTP client pushes go through (never following a redirect)."""
        self._client = httpx.AsyncClient(follow_redirects=False)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def start(self) -> None:
        self.open()
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        self._stopping = True
        self._notifier.notify(WAKE_KEY)
        if self._task is not None:
            # A push in hand is finished and recorded; past the timeout it is cut off (its
            # lease runs out and it is sent again later: receivers deduplicate by delivery id).
            with suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, self._settings.webhook_timeout_seconds + 5)
        await self.close()

    async def _run(self) -> None:
        while not self._stopping:
            pause = _IDLE_SECONDS
            try:
                next_due = await self.send_due()
                if next_due is not None:
                    pause = min(pause, max(0.01, (next_due - _now()).total_seconds()))
            except StorageError as exc:
                log.warning("webhook.store_unavailable", error=str(exc))
            await self._notifier.wait(WAKE_KEY, pause)

    async def send_due(self) -> datetime | None:
        """Attempt every due push; return when the next pending one falls due, if any."""
        rows = await self._rt.store.find(
            repo.WEBHOOK_DELIVERIES.name,
            {"state": "pending"},
            order_by="next_attempt_at",
            limit=_BATCH,
        )
        now = _now()
        due: list[Doc] = []
        later: list[datetime] = []
        for row in rows:
            at = datetime.fromisoformat(row["next_attempt_at"])
            if at <= now:
                due.append(row)
            else:
                later.append(at)
        outcomes = await asyncio.gather(*(self._attempt(r) for r in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                log.warning("webhook.attempt_crashed", error=repr(outcome))
        return min(later, default=None)

    async def _attempt(self, row: Doc) -> None:
        store = self._rt.store
        hook = await store.get(repo.WEBHOOKS.name, row["tenant"])
        if hook is None:
            await store.update(
                repo.WEBHOOK_DELIVERIES.name,
                row["id"],
                {"state": "cancelled", "last_error": "webhook removed"},
                expect={"state": "pending"},
            )
            return
        # Claim it: while the lease runs, no other pass or replica sends it again.
        lease = timedelta(seconds=self._settings.webhook_timeout_seconds + 30)
        if not await store.update(
            repo.WEBHOOK_DELIVERIES.name,
            row["id"],
            {"next_attempt_at": _iso(_now() + lease)},
            expect={"state": "pending", "next_attempt_at": row["next_attempt_at"]},
        ):
            return
        async with self._parallel:
            status, error, duration_ms = await self.push(hook, row)
        await self._record(row, hook["url"], status, error, duration_ms)

    async def push(self, hook: Doc, row: Doc) -> tuple[int | None, str | None, float | None]:
        """One attempt: its HTTP status, what went wrong (in words that tell nothing of the
        network behind the address: no error numbers, no timings of failed connections), and
        how long an answered request took."""
        assert self._client is not None
        try:
            secret = self._box.open(hook["sealed_secret"])
        except (SecretUnreadable, KeyError):
            return None, SECRET_UNREADABLE, None
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "tsdx-webhook/1",
            "X-Tsdx-Event": row["event"],
            "X-Tsdx-Delivery": row["id"],
            SIGNATURE_HEADER: sign(secret, body),
        }
        timeout = self._settings.webhook_timeout_seconds
        try:
            address = await asyncio.wait_for(
                checked_address(hook["url"], self._allowed, self._resolve), timeout
            )
        except AddressNotAllowed as exc:
            return None, f"{NOT_ALLOWED}: {exc}", None
        except (HostUnresolved, TimeoutError):
            return None, UNRESOLVED, None
        target, host, extensions = pinned(hook["url"], address)
        started = time.perf_counter()
        try:
            response = await self._client.post(
                target,
                content=body,
                headers={**headers, "Host": host},
                timeout=timeout,
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            # The operator's log keeps the detail; the base's delivery log does not.
            log.info("webhook.no_answer", delivery_id=row["id"], error=repr(exc)[:300])
            return None, NO_ANSWER, None
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if 200 <= response.status_code < 300:
            return response.status_code, None, duration_ms
        return response.status_code, f"HTTP {response.status_code}", duration_ms

    async def _record(
        self, row: Doc, url: str, status: int | None, error: str | None, duration_ms: float | None
    ) -> None:
        now = _now()
        attempts = row["attempts"] + 1
        entry = {
            "at": _iso(now),
            "url": url,
            "status": status,
            "error": error,
            "duration_ms": duration_ms,
        }
        changes: Doc = {
            "attempts": attempts,
            "history": [*row["history"], entry][-_HISTORY:],
            "last_status": status,
            "last_error": error,
        }
        if error is None:
            outcome = "delivered"
            changes.update(state="delivered", delivered_at=_iso(now))
        elif attempts >= self._settings.webhook_max_attempts:
            outcome = "failed"
            changes["state"] = "failed"
        else:
            outcome = "retry"
            pause = backoff_seconds(
                attempts,
                self._settings.webhook_retry_base_seconds,
                self._settings.webhook_retry_max_seconds,
            )
            changes["next_attempt_at"] = _iso(now + timedelta(seconds=pause))
        async with self._rt.uow() as tx:
            await tx.db.update(
                repo.WEBHOOK_DELIVERIES.name,
                row["id"],
                changes,
                expect={"state": "pending", "attempts": row["attempts"]},
            )
            if outcome == "delivered":
                await mark_loaded(tx, row["tenant"], row["document_id"])
        WEBHOOK_ATTEMPTS.labels(outcome).inc()
        log.info(
            "webhook.attempted",
            delivery_id=row["id"],
            document_id=row["document_id"],
            status=status,
            outcome=outcome,
            attempts=attempts,
        )
