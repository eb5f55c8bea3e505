"""Process settings, read from the environment (prefix ``TSDX_``) or a ``.env`` file."""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.messaging.addresses import parse_addresses, parse_api_addresses, quorum_group_size
from shared.outbound import allowed_networks

# The admin token a fresh install starts with: anyone who read the README knows it, so every
# service warns at start while it is still in use (shared/service.py, `tsdx up`).
DEFAULT_ADMIN_TOKEN = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TSDX_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    amqp_url: str = "amqp://guest:guest@localhost:5672/"
    # The nodes of a RabbitMQ cluster, comma-separated; when given, ``amqp_url`` is not used.
    # A service connects to the first that answers and, losing it, to the next in turn.
    amqp_urls: str | None = None
    # Replicas of each quorum queue (x-quorum-initial-group-size); unset: one per address given,
    # at most 3 (nothing sent for a single address); 0: never sent, the broker decides.
    # Every service must declare the same, so give all of them the same addresses or value.
    quorum_group_size: int | None = Field(default=None, ge=0)
    # A publish not confirmed in this time counts as not sent (the outbox keeps it, an HTTP
    # caller gets 503): with its majority lost, a quorum queue may never answer.
    publish_timeout_seconds: float = Field(default=5.0, gt=0)
    # RabbitMQ management API, read by the dashboard for queue depths.
    rabbitmq_api_url: str = "http://guest:guest@localhost:15672/api"
    # One management API per node of a cluster (comma-separated): the dashboard asks them in
    # turn, from the last that answered, so a node lost does not blank its queue figures.
    rabbitmq_api_urls: str | None = None
    # Quorum queues need RabbitMQ 3.8+; off only for brokers that lack them.
    quorum_queues: bool = True

    store: Literal["sqlite", "mongo"] = "sqlite"
    data_dir: Path = Path("./data")
    mongo_url: str = "mongodb://localhost:27017/?replicaSet=rs0"
    # Every database name starts with this, so several stacks can share a server.
    db_prefix: str = "tsdx"

    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    # ``tsdx up``: each service's log file is rotated at this size, keeping this many older
    # files (<service>.log.1 is the newest of them). Containers log to stdout instead.
    log_max_bytes: int = Field(10 * 1024 * 1024, ge=1)
    log_backups: int = Field(5, ge=0)
    # OpenTelemetry: traces exported over OTLP/HTTP to this base address (e.g.
    # http://jaeger:4318); empty, the default, means no tracing (shared/telemetry.py).
    otlp_endpoint: str = ""
    # Requests that found nothing new (inbox polls) are not logged one by one: each process
    # writes one summary line with their counts this often (shared/request_summary.py).
    log_summary_seconds: float = Field(60.0, gt=0)

    host: str = "127.0.0.1"
    gateway_port: int = 8080
    lan_port: int = 8081
    dashboard_port: int = 8082
    registry_port: int = 8083
    routing_port: int = 8084

    # Operator credential for the admin API and the dashboard's replay button.
    admin_token: str = DEFAULT_ADMIN_TOKEN

    # Messaging.
    prefetch: int = 64
    retry_delays_ms: list[int] = Field(default_factory=lambda: [1000, 5000, 30000])
    rpc_timeout_seconds: float = 5.0
    # A consumer that crashes the process on one message this many times parks it.
    delivery_limit: int = 5

    # Gateway.
    upload_wait_seconds: float = 3.0
    long_poll_max_seconds: float = 30.0
    max_body_bytes: int = 16 * 1024 * 1024
    max_lines_per_document: int = 20_000
    max_documents_per_upload: int = 100
    pin_misses_per_minute: int = 10
    # Devices and bases whose credentials each gateway instance holds in memory (0: none; every
    # request then reads the store). Changes reach every instance by a broadcast.
    credential_cache_size: int = Field(100_000, ge=0)
    # Devices whose last poll answer each gateway instance holds in memory while their inbox
    # does not change (0: none; every poll then reads the store), the one kept longest ago
    # dropped first, and for how long at most: changes reach every instance by a broadcast
    # within about a second, and the age bounds what a stalled publish or lost greetings leave.
    inbox_summaries_size: int = Field(10_000, ge=0)
    inbox_summaries_seconds: float = Field(30.0, gt=0)
    # Gateway and LAN writer: how often the copy of the catalogs checks it is not behind the
    # registry (it catches up at start-up, and when it made no progress between two checks).
    catalog_check_seconds: float = Field(60.0, gt=0)
    # How stale a terminal's last contact may be elsewhere (the dashboard): a device's contact
    # is announced (``device.seen``) when first seen, then once it is this much newer than the
    # last the other services were told of (a download tells them too). 0: at every write.
    sighting_precision_seconds: float = Field(60.0, ge=0)

    # Registry.
    # Catalog items (upserts and deletions together) taken in one call from 1C.
    catalog_max_items_per_call: int = Field(10_000, ge=1)
    pin_length: int = 4
    pin_cooldown_days: int = 30

    # LAN writer: how long a terminal user's log-in lasts, and failed log-ins allowed per
    # user name (or per base, for badges) in a minute before it is refused for a while.
    lan_session_hours: float = 12.0
    lan_login_misses_per_minute: int = 10

    # Language of user-facing messages when the caller names none.
    default_language: Literal["ru", "en"] = "ru"

    # Gateway: request rate per credential (API key or device), a token bucket.
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 200
    # Gateway webhooks: pushes of finished online documents to the base's HTTPS address.
    # Plain http is accepted only for loopback addresses, and only when this is on (tests).
    webhook_allow_http_loopback: bool = False
    # Networks webhooks may reach although they are not public (an on-site 1C server), e.g.
    # "10.1.0.0/16, fd00:1::/64"; loopback, private, link-local and reserved addresses are
    # refused otherwise (shared/outbound.py).
    webhook_allowed_networks: str = ""
    # Fernet keys, comma-separated, that encrypt webhook signing secrets at rest: the first
    # encrypts, all decrypt (shared/secret_box.py says how to rotate). Empty: a key generated
    # into the data directory on first start.
    secret_keys: str = Field(default="", repr=False)
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 10
    # Backoff before attempt n+1 is base * 2**(n-1) seconds, capped at the maximum.
    webhook_retry_base_seconds: float = 2.0
    webhook_retry_max_seconds: float = 3600.0

    # Dashboard: recent events kept in memory for its live feed, and how long a device counts
    # as online after it was last seen.
    dashboard_feed_size: int = 200
    dashboard_online_window_seconds: int = 300

    # Consumers park a message larger than this without decoding it (decoding and validating
    # takes many times a message's size in memory); twice the largest HTTP body taken.
    max_message_bytes: int = 32 * 1024 * 1024

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        allowed_networks(value)  # a typo fails the start, naming the entry
        return value

    @model_validator(mode="after")
    def _addresses_usable(self) -> Settings:
        parse_addresses(self.amqp_urls, self.amqp_url)  # refuses a bad list at start-up
        parse_api_addresses(self.rabbitmq_api_urls, self.rabbitmq_api_url)
        return self

    @cached_property
    def amqp_addresses(self) -> tuple[str, ...]:
        """Every broker address to try, in order (``amqp_urls``, else ``amqp_url``)."""
        return parse_addresses(self.amqp_urls, self.amqp_url)

    @cached_property
    def rabbitmq_api_addresses(self) -> tuple[str, ...]:
        """Every management API to ask, in order (``rabbitmq_api_urls``, else the one)."""
        return parse_api_addresses(self.rabbitmq_api_urls, self.rabbitmq_api_url)

    @property
    def admin_token_is_default(self) -> bool:
        """Whether the admin token is still the one a fresh install starts with."""
        return self.admin_token == DEFAULT_ADMIN_TOKEN

    @property
    def quorum_replicas(self) -> int | None:
        """The replication size quorum queues are declared with (None: the broker's own)."""
        return quorum_group_size(self.quorum_group_size, len(self.amqp_addresses))


@lru_cache
def get_settings() -> Settings:
    return Settings()
