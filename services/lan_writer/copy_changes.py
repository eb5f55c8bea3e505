"""How any LAN copy changes, whoever changes it (a user, an operator, news from routing).

Every change is a compare-and-set on the copy's row (the ``revision`` and ``state`` it was read
with), committed in one transaction with the events it causes. Losing a race rolls everything
back, reads the row again and decides again: two users taking the same document at the same
moment can never both win.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from services.lan_writer import repository as repo
from services.lan_writer.auth import LanUser
from services.lan_writer.repository import LanCopy
from shared.contracts import Envelope
from shared.errors import Refusal
from shared.metrics import LAN_LOCKS
from shared.outbox import Tx, UnitOfWork

# Tries of one change under contention before the caller is asked to retry.
ATTEMPTS = 8

# Decides a change from the copy as read inside the transaction: returns the changed copy
# (None: nothing to change) after writing or emitting whatever goes with it through ``tx``.
Decide = Callable[[Tx, LanCopy], Awaitable[LanCopy | None]]


class _LostRace(Exception):
    """The row changed between reading and writing it; the transaction is rolled back."""


class CopyNotStored(Exception):
    """A message names a copy this base has not stored (yet): worth retrying a little later."""


def check_access(copy: LanCopy, user: LanUser) -> None:
    """A user sees a document assigned to them (or their group, everyone, their device) or
    one they work or worked on; any other, like another tenant's, does not exist for them."""
    if copy.tenant != user.tenant:
        raise Refusal("not_found", 404)
    if copy.assignee not in user.assignee_keys and not copy.lock.involves(user.login):
        raise Refusal("not_found", 404)


class CopyChanges:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def change(
        self, delivery_id: str, decide: Decide, *, applying: Envelope | None = None
    ) -> tuple[LanCopy, bool]:
        """Apply ``decide`` to the copy; returns the copy as it now is and whether it changed."""
        for _ in range(ATTEMPTS):
            try:
                async with self._uow(applying=applying) as tx:
                    copy = await repo.copy(tx.db, delivery_id)
                    if copy is None:
                        raise CopyNotStored(delivery_id)
                    after = await decide(tx, copy)
                    if after is None:
                        return copy, False
                    after = replace(after, revision=copy.revision + 1)
                    if not await repo.replace_copy(tx.db, copy, after):
                        raise _LostRace
                    return after, True
            except _LostRace:
                LAN_LOCKS.labels("race_lost").inc()
        raise Refusal("lan_busy", 409)

    async def by_user(
        self, user: LanUser, delivery_id: str, decide: Decide
    ) -> tuple[LanCopy, bool]:
        """A change a user makes: only to a copy they may see; an unknown one is not found."""

        async def checked(tx: Tx, copy: LanCopy) -> LanCopy | None:
            check_access(copy, user)
            return await decide(tx, copy)

        return await self.by_operator(delivery_id, checked)

    async def by_operator(self, delivery_id: str, decide: Decide) -> tuple[LanCopy, bool]:
        """A change asked for over HTTP: a copy not stored is not found."""
        try:
            return await self.change(delivery_id, decide)
        except CopyNotStored:
            raise Refusal("not_found", 404) from None
