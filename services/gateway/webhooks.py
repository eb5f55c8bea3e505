"""Webhooks: documents finished on online devices, pushed to the base's own HTTPS address.

A base sets its address with its API key (``PUT /api/v1/settings/webhook``) and is shown its
signing secret once. Each push is a POST of the same JSON the accounting API serves for one
result, wrapped with the event's id; ``X-Tsdx-Signature`` carries ``sha256=`` and the hex
HMAC-SHA256 of the raw body under that secret. A push that fails is tried again after
growing pauses; every attempt is kept in the delivery log. A 2xx answer means the base has
loaded the document, so it is marked loaded as by ``POST /results/{id}/loaded``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import time
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
from services.gateway.wire import ensure_portable
from shared.contracts import Envelope
from shared.contracts.absent import NullMeansAbsent
from shared.errors import Refusal
from shared.logging import get_logger
from shared.metrics import WEBHOOK_ATTEMPTS
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


def check_url(url: str, *, allow_http_loopback: bool) -> str:
    """The address if acceptable: https (http only to loopback when allowed), a host, no
    credentials in it; otherwise a refusal saying which rule it broke."""
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
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    url = check_url(body.url, allow_http_loopback=rt.settings.webhook_allow_http_loopback)
    now = _iso(_now())
    current = await rt.store.get(repo.WEBHOOKS.name, tenant["id"])
    if current is None:
        secret = new_token("whsec", 32)
        try:
            await rt.store.insert(
                repo.WEBHOOKS.name,
                {"id": tenant["id"], "url": url, "secret": secret, "updated_at": now},
            )
            return {"configured": True, "url": url, "updated_at": now, "secret": secret}
        except DuplicateKeyError:  # set at the same moment by another call: update that one
            current = await rt.store.get(repo.WEBHOOKS.name, tenant["id"])
            if current is None:
                raise Refusal("storage_unavailable", 503) from None
    changes: Doc = {"url": url, "updated_at": now}
    if body.rotate_secret:
        changes["secret"] = new_token("whsec", 32)
    await rt.store.update(repo.WEBHOOKS.name, tenant["id"], changes)
    answer: dict[str, Any] = {"configured": True, "url": url, "updated_at": now}
    if "secret" in changes:
        answer["secret"] = changes["secret"]
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


# ---- the sender -----------------------------------------------------------------------------


class WebhookSender:
    """Sends due pushes in the background; any gateway replica may send any push (a push
    is claimed by compare-and-set before it is sent)."""

    def __init__(self, rt: Runtime, notifier: Notifier) -> None:
        self._rt = rt
        self._notifier = notifier
        self._settings = rt.settings
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._parallel = asyncio.Semaphore(_PARALLEL)

    def start(self) -> None:
        self._client = httpx.AsyncClient(follow_redirects=False)
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        self._stopping = True
        self._notifier.notify(WAKE_KEY)
        if self._task is not None:
            # A push in hand is finished and recorded; past the timeout it is cut off (its
            # lease runs out and it is sent again later: receivers deduplicate by delivery id).
            with suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, self._settings.webhook_timeout_seconds + 5)
        if self._client is not None:
            await self._client.aclose()

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
            status, error, duration_ms = await self._post(hook, row)
        await self._record(row, hook["url"], status, error, duration_ms)

    async def _post(self, hook: Doc, row: Doc) -> tuple[int | None, str | None, float]:
        assert self._client is not None
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "tsdx-webhook/1",
            "X-Tsdx-Event": row["event"],
            "X-Tsdx-Delivery": row["id"],
            SIGNATURE_HEADER: sign(hook["secret"], body),
        }
        started = time.perf_counter()
        try:
            response = await self._client.post(
                hook["url"],
                content=body,
                headers=headers,
                timeout=self._settings.webhook_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
            return None, error, round((time.perf_counter() - started) * 1000, 1)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if 200 <= response.status_code < 300:
            return response.status_code, None, duration_ms
        return response.status_code, f"HTTP {response.status_code}", duration_ms

    async def _record(
        self, row: Doc, url: str, status: int | None, error: str | None, duration_ms: float
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
