"""The webhook sender: pushes due deliveries in the background, where the push connects
(resolved once, checked, pinned: webhook_address.py), and what the delivery log keeps of each
attempt. Any gateway replica may send any push."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta

import httpx

from services.gateway import repository as repo
from services.gateway.notifier import Notifier
from services.gateway.records import Webhook, WebhookPush
from services.gateway.results import mark_loaded
from services.gateway.webhook_address import (
    AddressNotAllowed,
    HostUnresolved,
    Resolve,
    checked_address,
    pinned,
    resolve_host,
)
from services.gateway.webhook_policy import backoff_seconds, iso, sign
from services.gateway.webhooks import WAKE_KEY
from shared.clock import now as _now
from shared.logging import get_logger
from shared.metrics import WEBHOOK_ATTEMPTS
from shared.outbound import allowed_networks
from shared.secret_box import SecretBox, SecretUnreadable
from shared.service import Runtime
from shared.storage import StorageError

log = get_logger("tsdx.gateway.webhooks")

SIGNATURE_HEADER = "X-Tsdx-Signature"
# How many attempts a delivery keeps in its log, how many pushes run at once, how many
# pending deliveries one pass looks at, and the longest pause between passes.
_HISTORY = 20
_PARALLEL = 10
_BATCH = 100
_IDLE_SECONDS = 1.0


# ---- where a push connects ------------------------------------------------------------------

# What the delivery log says when no HTTP answer came.
NO_ANSWER = "no answer from the address (no connection, or no answer in time)"
UNRESOLVED = "the host name could not be resolved"
NOT_ALLOWED = "address not allowed"
SECRET_UNREADABLE = "the signing secret cannot be read with the configured keys"


class WebhookSender:
    """Sends due pushes in the background; any gateway replica may send any push (a push
    is claimed by compare-and-set before it is sent)."""

    def __init__(
        self,
        rt: Runtime,
        notifier: Notifier,
        resolve: Resolve | None = None,
        *,
        box: SecretBox,
    ) -> None:
        self._rt = rt
        self._notifier = notifier
        self._settings = rt.settings
        self._box = box
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
        rows = await repo.pending_pushes(self._rt.store, _BATCH)
        now = _now()
        due: list[WebhookPush] = []
        later: list[datetime] = []
        for row in rows:
            at = datetime.fromisoformat(row.next_attempt_at)
            if at <= now:
                due.append(row)
            else:
                later.append(at)
        outcomes = await asyncio.gather(*(self._attempt(r) for r in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                log.warning("webhook.attempt_crashed", error=repr(outcome))
        return min(later, default=None)

    async def _attempt(self, row: WebhookPush) -> None:
        store = self._rt.store
        hook = await repo.webhook(store, row.tenant)
        if hook is None:
            await repo.cancel_push(store, row.id, "webhook removed")
            return
        # Claim it: while the lease runs, no other pass or replica sends it again.
        lease = timedelta(seconds=self._settings.webhook_timeout_seconds + 30)
        if not await repo.lease_push(store, row, iso(_now() + lease)):
            return
        async with self._parallel:
            status, error, duration_ms = await self.push(hook, row)
        await self._record(row, hook.url, status, error, duration_ms)

    async def push(
        self, hook: Webhook, row: WebhookPush
    ) -> tuple[int | None, str | None, float | None]:
        """One attempt: its HTTP status, what went wrong (in words that tell nothing of the
        network behind the address: no error numbers, no timings of failed connections), and
        how long an answered request took."""
        assert self._client is not None
        if hook.sealed_secret is None:
            return None, SECRET_UNREADABLE, None
        try:
            secret = self._box.open(hook.sealed_secret)
        except SecretUnreadable:
            return None, SECRET_UNREADABLE, None
        body = row.body.encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "tsdx-webhook/1",
            "X-Tsdx-Event": row.event,
            "X-Tsdx-Delivery": row.id,
            SIGNATURE_HEADER: sign(secret, body),
        }
        timeout = self._settings.webhook_timeout_seconds
        try:
            address = await asyncio.wait_for(
                checked_address(hook.url, self._allowed, self._resolve), timeout
            )
        except AddressNotAllowed as exc:
            return None, f"{NOT_ALLOWED}: {exc}", None
        except (HostUnresolved, TimeoutError):
            return None, UNRESOLVED, None
        target, host, extensions = pinned(hook.url, address)
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
            log.info("webhook.no_answer", delivery_id=row.id, error=repr(exc)[:300])
            return None, NO_ANSWER, None
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if 200 <= response.status_code < 300:
            return response.status_code, None, duration_ms
        return response.status_code, f"HTTP {response.status_code}", duration_ms

    async def _record(
        self,
        row: WebhookPush,
        url: str,
        status: int | None,
        error: str | None,
        duration_ms: float | None,
    ) -> None:
        now = _now()
        attempts = row.attempts + 1
        entry = {
            "at": iso(now),
            "url": url,
            "status": status,
            "error": error,
            "duration_ms": duration_ms,
        }
        attempted = replace(
            row,
            attempts=attempts,
            history=(*row.history, entry)[-_HISTORY:],
            last_status=status,
            last_error=error,
        )
        if error is None:
            outcome = "delivered"
            attempted = replace(attempted, state="delivered", delivered_at=iso(now))
        elif attempts >= self._settings.webhook_max_attempts:
            outcome = "failed"
            attempted = replace(attempted, state="failed")
        else:
            outcome = "retry"
            pause = backoff_seconds(
                attempts,
                self._settings.webhook_retry_base_seconds,
                self._settings.webhook_retry_max_seconds,
            )
            attempted = replace(attempted, next_attempt_at=iso(now + timedelta(seconds=pause)))
        async with self._rt.uow() as tx:
            await repo.record_attempt(tx.db, row, attempted)
            if outcome == "delivered":
                await mark_loaded(tx, row.tenant, row.document_id)
        WEBHOOK_ATTEMPTS.labels(outcome).inc()
        log.info(
            "webhook.attempted",
            delivery_id=row.id,
            document_id=row.document_id,
            status=status,
            outcome=outcome,
            attempts=attempts,
        )
