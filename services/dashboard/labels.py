"""The page's own words, in the language it is shown in.

They live in the one message catalog (``dashboard.*`` keys of :mod:`shared.i18n_ui`); the page
gets all of them without the prefix, its script uses them for live rows.
"""

from __future__ import annotations

from shared.i18n import Language
from shared.i18n_ui import UI_TEXTS

PREFIX = "dashboard."


def labels_for(language: Language) -> dict[str, str]:
    return {
        key.removeprefix(PREFIX): texts[language]
        for key, texts in UI_TEXTS.items()
        if key.startswith(PREFIX)
    }
