"""A RabbitMQ virtual host of the bench's own, so its queues never mix with another stack's."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from urllib.parse import quote, urlparse, urlunparse

import httpx


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
