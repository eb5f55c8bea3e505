"""States of an uploaded document and of its copies. Pure: no I/O.

A **copy** (one delivery of one document to one target) goes

    routed → delivered → downloaded → in_progress → done

or is ``withdrawn`` on the way (replaced by a new upload, or recalled). Its channel reports
the steps (``delivery.progressed``): ``delivered`` when the copy is stored in the LAN base,
``downloaded`` when a terminal confirmed the download, ``in_progress`` when a user took it; a
result moves it to ``in_progress`` or, when final, to ``done``. A device inbox's copy is
reported once, at its download, which says when it was stored (``delivered_at``): it goes from
``routed`` to ``downloaded``, and the journey shows both steps. A LAN user who releases a copy
puts it back to ``delivered``. News arriving late never moves a copy back.

The **document** (its master record) follows its copies until every copy is done:

- ``queued``: accepted and routed; no channel has confirmed storing a copy yet;
- ``delivered``: a copy is stored in the LAN base (a device inbox's copy is reported with its
  download, so an internet document goes from ``queued`` to ``downloaded``);
- ``downloaded``: a terminal downloaded a copy;
- ``in_progress``: a copy is being worked on, or some copies are finished and others not;
- ``completed``: every copy is done; the merged result went to the accounting side;
- ``loaded``: the accounting side confirmed it loaded the result;
- ``returned``: every copy was taken back because its device turned out blocked or retired
  before routing learned it (late_returns.py); uploading it again starts it anew.

The furthest copy decides (one copy being worked on means the document is being worked on).
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.contracts.copies import CopyState

# Copy states (shared/contracts/copies.py), as plain text: they are stored and compared as such.
ROUTED = CopyState.ROUTED.value
DELIVERED = CopyState.DELIVERED.value
DOWNLOADED = CopyState.DOWNLOADED.value
IN_PROGRESS = CopyState.IN_PROGRESS.value
DONE = CopyState.DONE.value
WITHDRAWN = CopyState.WITHDRAWN.value

# A copy no terminal has taken yet: re-uploading the document replaces it.
NOT_TAKEN = (ROUTED, DELIVERED)
# A copy a terminal is working on: re-uploading is refused unless the operator recalls it.
TAKEN = (DOWNLOADED, IN_PROGRESS)
LIVE = NOT_TAKEN + TAKEN

# Document states.
QUEUED = "queued"
COMPLETED = "completed"
LOADED = "loaded"
RETURNED = "returned"
FINISHED = (COMPLETED, LOADED)
DOCUMENT_STATES = (QUEUED, DELIVERED, DOWNLOADED, IN_PROGRESS, COMPLETED, LOADED, RETURNED)

_COPY_ORDER = {state: rank for rank, state in enumerate(LIVE)}
# What each reported step makes of a copy.
_STEP = {
    "delivered": DELIVERED,
    "downloaded": DOWNLOADED,
    "in_progress": IN_PROGRESS,
    "released": DELIVERED,
}


def copy_after_step(current: str, step: str) -> str | None:
    """The copy's state after a reported step, or None when the step changes nothing.

    A copy that is done or withdrawn no longer changes; only a release moves a copy back.
    """
    if current not in LIVE:
        return None
    after = _STEP[step]
    if step != "released" and _COPY_ORDER[after] <= _COPY_ORDER[current]:
        return None
    return after if after != current else None


def copy_after_result(final: bool) -> str:
    return DONE if final else IN_PROGRESS


def document_state(current: str, copy_states: Iterable[str]) -> str:
    """The document's state from the states of its current copies.

    A completed or loaded document keeps its state: only a new upload starts it again.
    """
    if current in FINISHED:
        return current
    states = set(copy_states)
    if states & {IN_PROGRESS, DONE}:
        return IN_PROGRESS
    if DOWNLOADED in states:
        return DOWNLOADED
    if DELIVERED in states:
        return DELIVERED
    return QUEUED


def in_work(document: str, copy_states: Iterable[str]) -> bool:
    """Whether the document is being worked on, so re-uploading it needs a recall.

    It is when a copy is taken, or when some copy is finished but the document is not (its
    result would be lost).
    """
    states = set(copy_states)
    return bool(states & set(TAKEN)) or (DONE in states and document not in FINISHED)


def reupload_refusal(document: str, copy_states: Iterable[str], *, recall: bool) -> str | None:
    """Why the document may not be uploaded again now, or None when it may.

    - ``document_result_not_loaded``: it is completed and the accounting side has not
      loaded its result yet. The new version's result would take the old one's place, so the
      old one would be lost; a recall does not help (nothing is on a terminal any more).
    - ``document_in_work``: it is being worked on (see :func:`in_work`), unless recalled.
    """
    if document == COMPLETED:
        return "document_result_not_loaded"
    if not recall and in_work(document, copy_states):
        return "document_in_work"
    return None
