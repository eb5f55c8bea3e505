"""Every code tsdx answers with has its message in Russian and English (shared/i18n.py).

The codes are read from the source, where they are written: refusals, rule outcomes, error
bodies; and those the document states decide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.routing import states
from shared.i18n import MESSAGES, render

ROOT = Path(__file__).resolve().parents[2]
WRITTEN = re.compile(
    r"""(?:Refusal|Refused|error_body|_refused\([^()]*?,)\(?\s*"([a-z_]+)\"""", re.VERBOSE
)


def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    for folder in ("services", "shared", "tools"):
        for path in (ROOT / folder).rglob("*.py"):
            codes.update(WRITTEN.findall(path.read_text(encoding="utf-8")))
    return codes


def _codes_of_states() -> set[str]:
    found = {
        states.reupload_refusal(document, copies, recall=recall)
        for document in states.DOCUMENT_STATES
        for copies in ([], ["downloaded"], ["done"])
        for recall in (False, True)
    }
    return {code for code in found if code is not None}


CODES = sorted(_codes_in_source() | _codes_of_states())


def test_the_source_names_codes() -> None:
    # The scan itself must find what it is meant to (a broken pattern would pass the rest).
    assert {"unauthorized", "document_in_work", "document_result_not_loaded"} <= set(CODES)
    assert {"body_unreadable", "validation_error", "device_not_found_by_pin"} <= set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_a_message_in_both_languages(code: str) -> None:
    assert code in MESSAGES, f"{code} has no message in shared/i18n.py"
    assert set(MESSAGES[code]) == {"ru", "en"}
    for language in ("ru", "en"):
        assert render(code, language, {})
