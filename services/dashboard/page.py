"""The operator's page: rendered on the server in the chosen language; its script fills the
live tables from the JSON endpoints."""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from string import Template

from services.dashboard.labels import labels_for
from shared.i18n import JOURNEY_MESSAGES, LANGUAGES, Language, render

_TEMPLATE = Path(__file__).parent / "templates" / "index.html"
_LANGUAGE_NAMES: dict[Language, str] = {"ru": "Русский", "en": "English"}


@cache
def _template() -> Template:
    return Template(_TEMPLATE.read_text(encoding="utf-8"))


def _language_links(current: Language) -> str:
    links = []
    for language in LANGUAGES:
        name = _LANGUAGE_NAMES[language]
        if language == current:
            links.append(f'<strong aria-current="true">{name}</strong>')
        else:
            # Each language named in itself («English» on the Russian page too).
            links.append(
                f'<a href="?lang={language}" hreflang="{language}" lang="{language}" '
                f'translate="no">{name}</a>'
            )
    return " · ".join(links)


def render_page(language: Language, bucket_seconds: int, window_seconds: int) -> str:
    labels = labels_for(language)
    # The document search's words and the names of steps and states (shared with the CLI).
    labels.update({code: render(code, language) for code in JOURNEY_MESSAGES})
    labels["throughput_title"] = labels["throughput_title"].format(seconds=bucket_seconds)
    minutes = f"{window_seconds / 60:g}"
    labels["throughput_window"] = labels["throughput_window"].format(minutes=minutes)
    # Inside <script> only "<" could end the element early; JSON allows it escaped.
    labels_json = json.dumps(labels, ensure_ascii=False).replace("<", "\\u003c")
    values = {key: html.escape(text) for key, text in labels.items()}
    return _template().substitute(
        values,
        lang=language,
        language_links=_language_links(language),
        labels_json=labels_json,
    )
