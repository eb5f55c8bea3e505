"""Who works on a LAN document: the rules of taking, releasing and finishing it. Pure, no I/O.

A document is ``free``, ``taken``, ``done`` or ``withdrawn``. Its holders are the users
working on it now. A shared document has at most one holder: the first user to take it locks
it and the others see whom it is taken by. A collective document admits any number of
holders; each one's final result means *that user* is done, and the document is done when the
last holder finishes. A user who releases a document leaves it; when nobody is left it is free
again (for a collective document, with the finished users' results kept).

Lines a user sent count only while that user keeps the document: releasing a shared document
or losing a lock drops the user's lines (the next taker counts it anew), while a user leaving a
collective document keeps the part they counted.

An operator may force-release a stale lock. The users who held it are remembered with the
operator's reason, so a result one of them sends later is refused with ``lock_lost`` instead
of being merged unseen; taking the document again clears that.

Each rule returns the new :class:`Lock` or raises :class:`~shared.errors.Refusal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from shared.errors import Refusal

State = Literal["free", "taken", "done", "withdrawn"]


@dataclass(frozen=True)
class Holder:
    login: str
    since: str  # ISO time the user took the document


@dataclass(frozen=True)
class Lock:
    state: State
    collective: bool
    holders: tuple[Holder, ...] = ()
    finished: tuple[str, ...] = ()  # users whose final result was sent
    lost: Mapping[str, str] = field(default_factory=dict)  # login -> operator's reason
    withdrawn_reason: str = ""

    @property
    def logins(self) -> tuple[str, ...]:
        return tuple(h.login for h in self.holders)

    def holds(self, login: str) -> bool:
        return login in self.logins

    def involves(self, login: str) -> bool:
        """The user works or worked on it, so may still see it when it is assigned elsewhere."""
        return self.holds(login) or login in self.finished or login in self.lost

    def _without(self, login: str) -> tuple[Holder, ...]:
        return tuple(h for h in self.holders if h.login != login)


def _still_open(lock: Lock) -> None:
    if lock.state == "withdrawn":
        raise Refusal("document_withdrawn", 410, reason=lock.withdrawn_reason)
    if lock.state == "done":
        raise Refusal("document_already_finished", 409)


def take(lock: Lock, login: str, now: str) -> Lock:
    """Lock a free shared document, or join a collective one. Taking it again changes nothing."""
    _still_open(lock)
    if lock.holds(login):
        return lock
    if lock.holders and not lock.collective:
        raise Refusal("document_taken", 409, holder=lock.holders[0].login)
    return replace(
        lock,
        state="taken",
        holders=(*lock.holders, Holder(login, now)),
        finished=tuple(u for u in lock.finished if u != login),
        lost={u: r for u, r in lock.lost.items() if u != login},
    )


def release(lock: Lock, login: str) -> Lock:
    """The user gives up a document they cannot finish; with nobody left it is free again."""
    _still_open(lock)
    if not lock.holds(login):
        raise Refusal("document_not_taken", 409)
    holders = lock._without(login)
    return replace(lock, state="taken" if holders else "free", holders=holders)


def lines_dropped_by_release(lock: Lock, login: str) -> tuple[str, ...]:
    """Whose lines stop counting when ``login`` gives the document back."""
    return () if lock.collective else (login,)


def submit(lock: Lock, login: str, final: bool) -> tuple[Lock, bool]:
    """Accept a result from ``login``; also say whether the whole document is now done."""
    if lock.state == "withdrawn":
        raise Refusal("document_withdrawn", 410, reason=lock.withdrawn_reason)
    if not lock.holds(login):
        raise _why_not_holder(lock, login)
    if not final:
        return lock, False
    holders = lock._without(login)
    done = not holders
    return (
        replace(
            lock,
            state="done" if done else "taken",
            holders=holders,
            finished=(*lock.finished, login),
        ),
        done,
    )


def _why_not_holder(lock: Lock, login: str) -> Refusal:
    if login in lock.lost:
        return Refusal("lock_lost", 409, reason=lock.lost[login])
    if login in lock.finished or lock.state == "done":
        return Refusal("document_already_finished", 409)
    if lock.holders and not lock.collective:
        return Refusal("document_taken", 409, holder=lock.holders[0].login)
    return Refusal("document_not_taken", 409)


def result_refused(lock: Lock, login: str, was_final: bool, now: str) -> Lock:
    """Routing refused a final result: the user is back at work on the document to correct it."""
    if lock.state == "withdrawn" or not was_final or login not in lock.finished:
        return lock
    return replace(
        lock,
        state="taken",
        holders=(*lock._without(login), Holder(login, now)),
        finished=tuple(u for u in lock.finished if u != login),
    )


def force_release(lock: Lock, reason: str) -> Lock:
    """An operator frees a stale lock; the users who held it lose it, with the reason."""
    _still_open(lock)
    if not lock.holders:
        raise Refusal("document_not_locked", 409)
    return replace(
        lock,
        state="free",
        holders=(),
        lost={**lock.lost, **{h.login: reason for h in lock.holders}},
    )


def check_reassignable(lock: Lock) -> None:
    """Only a document nobody works on may be given to someone else."""
    _still_open(lock)
    if lock.holders:
        raise Refusal("release_lock_first", 409, holders=", ".join(lock.logins))
