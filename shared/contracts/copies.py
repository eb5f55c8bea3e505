"""The states of a copy (one delivery of a document to one target): the one list of them, for
routing's master records, the gateway's inboxes and the AMQP contract (docs/routing.md,
"Documents and their states").

A delivered copy that no terminal has downloaded yet is :attr:`CopyState.DELIVERED` in both
services. Only its spelling differs on the wire: ``delivered`` in routing and in
``delivery.progressed``, ``waiting`` in the terminal API (docs/terminal-api.md) and in the
gateway's stored inboxes. Terminal apps in the field read ``waiting``, so that word stays; it
is spelt here and nowhere else (:attr:`CopyState.terminal_word`).
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

    @property
    def terminal_word(self) -> str:
        """The state as the terminal API shows it and the gateway's inbox stores it."""
        return _TERMINAL_WORDS.get(self, self.value)

    @classmethod
    def stored_by_gateway(cls, word: str) -> CopyState:
        """The state a gateway inbox's stored word stands for (see :attr:`terminal_word`)."""
        state = _BY_TERMINAL_WORD.get(word)
        if state is None:
            raise ValueError(f"{word!r} is not a copy state")
        return state


_TERMINAL_WORDS = {CopyState.DELIVERED: "waiting"}
# Every stored word to its state, so that reading a poll's copies is one dict look-up each.
_BY_TERMINAL_WORD = {state.terminal_word: state for state in CopyState}
