"""A RabbitMQ virtual host of the bench's own, so its queues never mix with another stack's."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlparse, urlunparse

import httpx

# The management API refreshes its message counts every 5 s (collect_statistics_interval).
STATS_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class MessageCounts:
    """The broker's own counts for a virtual host: messages published into its exchanges, and
    messages delivered from its queues to consumers (one publish routed to two queues is two
    deliveries)."""

    published: int
    delivered: int

    def __sub__(self, other: MessageCounts) -> MessageCounts:
        return MessageCounts(self.published - other.published, self.delivered - other.delivered)


class VirtualHost:
    """Created through the management API when it answers, else with ``rabbitmqctl``."""

    def __init__(self, amqp_url: str, management_url: str, prefix: str = "tsdx-bench") -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self._amqp = urlparse(amqp_url)
        api = urlparse(management_url)
        # The credentials go in the auth header, not the address.
        host = f"{api.hostname or 'localhost'}:{api.port}" if api.port else api.hostname or ""
        self._api = f"{api.scheme}://{host}{api.path}".rstrip("/")
        self._auth = (api.username or "guest", api.password or "guest")
        self._user = self._amqp.username or "guest"

    @property
    def amqp_url(self) -> str:
        return urlunparse(self._amqp._replace(path="/" + quote(self.name, safe="")))

    def _vhost_path(self) -> str:
        return f"{self._api}/vhosts/{quote(self.name, safe='')}"

    def _management_up(self) -> bool:
        try:
            return httpx.get(f"{self._api}/overview", auth=self._auth, timeout=2).is_success
        except httpx.HTTPError:
            return False

    def create(self) -> None:
        if self._management_up():
            httpx.put(self._vhost_path(), auth=self._auth, timeout=10).raise_for_status()
            httpx.put(
                f"{self._api}/permissions/{quote(self.name, safe='')}/{quote(self._user)}",
                auth=self._auth,
                json={"configure": ".*", "write": ".*", "read": ".*"},
                timeout=10,
            ).raise_for_status()
            return
        ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
        subprocess.run([ctl, "add_vhost", self.name], check=True, capture_output=True)
        subprocess.run(
            [ctl, "set_permissions", "-p", self.name, self._user, ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )

    def delete(self) -> None:
        if self._management_up():
            httpx.delete(self._vhost_path(), auth=self._auth, timeout=30)
            return
        ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
        subprocess.run([ctl, "delete_vhost", self.name], check=False, capture_output=True)

    def message_counts(self) -> MessageCounts | None:
        """Counts so far, or None when the management API does not answer."""
        try:
            answer = httpx.get(self._vhost_path(), auth=self._auth, timeout=5)
            answer.raise_for_status()
        except httpx.HTTPError:
            return None
        stats = answer.json().get("message_stats", {})
        return MessageCounts(int(stats.get("publish", 0)), int(stats.get("deliver_get", 0)))

    async def settled_counts(
        self, timeout: float = 4 * STATS_INTERVAL_SECONDS
    ) -> MessageCounts | None:
        """Counts once the broker's statistics have caught up with a quiet moment: unchanged
        for longer than their refresh interval (None without the management API, or when
        they keep moving until ``timeout``)."""
        deadline = time.monotonic() + timeout
        last = await asyncio.to_thread(self.message_counts)
        since = time.monotonic()
        while last is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            now = await asyncio.to_thread(self.message_counts)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > STATS_INTERVAL_SECONDS + 1:
                return last
        return None
