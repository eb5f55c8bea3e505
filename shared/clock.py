"""The one clock of every service: the current moment in UTC, as a datetime or as stored text."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def now_iso() -> str:
    """The current moment as ISO 8601 text, the form the stores keep it in."""
    return now().isoformat()
