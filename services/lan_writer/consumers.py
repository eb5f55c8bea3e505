"""What the LAN writer takes from the broker: LAN copies, their withdrawals, refused results,
and its bases' barcode settings (from ``tenant.changed``), each to one use case of
:class:`~services.lan_writer.broker_news.BrokerNews`."""

from __future__ import annotations

from services.lan_writer.broker_news import BrokerNews
from shared.contracts.directory import TenantChanged
from shared.contracts.results import ResultRefused
from shared.contracts.uploads import DocumentRouted, DocumentRoutedV1, DocumentWithdrawn
from shared.messaging.consumer import Handler


# A table like the gateway's (gateway/consumers.py): message types to use cases, each service
# its own.
def table(news: BrokerNews) -> dict[type, Handler]:
    return {
        DocumentRouted: news.routed,
        DocumentRoutedV1: news.routed_v1,
        DocumentWithdrawn: news.withdraw,
        ResultRefused: news.result_refused,
        TenantChanged: news.tenant_changed,
    }
