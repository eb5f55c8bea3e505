"""The operator's page as the server renders it, in each language: its own words from the one
message catalog, escaped where they go. Pure: no HTTP."""

from __future__ import annotations

import json
import re

import pytest

from services.dashboard.labels import labels_for
from services.dashboard.page import render_page
from shared.i18n import LANGUAGES, Language


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_speaks_its_language_and_links_the_other(language: Language) -> None:
    page = render_page(language, bucket_seconds=10, window_seconds=600)
    assert f'<html lang="{language}"' in page
    assert '<strong aria-current="true">' in page
    other = next(lang for lang in LANGUAGES if lang != language)
    assert f'href="?lang={other}"' in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_scripts_labels_are_the_catalogs_with_the_figures_filled_in(
    language: Language,
) -> None:
    page = render_page(language, bucket_seconds=10, window_seconds=90)
    found = re.search(r'<script type="application/json" id="labels">(.*?)</script>', page)
    assert found is not None
    labels = json.loads(found.group(1))
    own = labels_for(language)
    assert {k: v for k, v in labels.items() if k in own and "{" not in own[k]} == {
        k: v for k, v in own.items() if "{" not in v
    }
    assert "10" in labels["throughput_title"]
    assert "1.5" in labels["throughput_window"]
