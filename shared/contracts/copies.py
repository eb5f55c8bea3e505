"""The states of a copy (one delivery of a document to one target): the one list of them, for
routing's master records, the gateway's inboxes and the AMQP contract (docs/routing.md,
"Documents and their states").

A delivered copy that no terminal has downloaded yet is ``delivered`` in routing and in
``delivery.progressed``; the gateway's inbox keeps and the terminal API shows the same state
as ``waiting`` (docs/terminal-api.md, the terminal app). Both words are on the wire, so both
stay; :data:`WAITING` is the one place that says so.
"""

from __future__ import annotations

from enum import StrEnum


class CopyState(StrEnum):
    ROUTED = "routed"
    DELIVERED = "delivered"
    DOWNLOADED = "downloaded"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WITHDRAWN = "withdrawn"
    # The gateway's only: the terminal has seen the withdrawal (acknowledged it).
    WITHDRAWAL_SEEN = "withdrawal_seen"


# The gateway's inbox's and the terminal API's word for CopyState.DELIVERED.
WAITING = "waiting"
