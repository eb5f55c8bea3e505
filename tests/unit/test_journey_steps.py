"""The one list of a document's journey steps: each named in Russian and English for the API,
the CLI and the dashboard, and the two owners' steps joined in time order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from services.dashboard.page import render_page
from shared.i18n import Language, render
from shared.journey import GATEWAY_STEPS, ROUTING_STEPS, STEPS, joined, step_label_code
from tools.cli.documents import details, who


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_step_has_its_name_in_both_languages(step: str, language: Language) -> None:
    code = step_label_code(step)
    name = render(code, language)
    assert name == STEPS[step][language]
    assert name and name != code


def test_the_gateway_steps_are_not_routings() -> None:
    assert set(GATEWAY_STEPS) == {"pushed", "push_failed", "pulled"}
    assert not set(GATEWAY_STEPS) & set(ROUTING_STEPS)
    assert "created" in ROUTING_STEPS  # a document started on a terminal has a name too


def test_the_dashboard_page_carries_every_step_name() -> None:
    page = render_page("en", 5, 300)
    match = re.search(r'<script type="application/json" id="labels">(.*?)</script>', page, re.S)
    assert match is not None
    labels = json.loads(match.group(1))
    for step, names in STEPS.items():
        assert labels[step_label_code(step)] == names["en"]


def test_gateway_steps_are_put_in_time_order_after_routings_at_the_same_moment() -> None:
    view: dict[str, Any] = {
        "state": "loaded",
        "timeline": [
            {"at": "2026-01-01T10:00:00+00:00", "step": "completed"},
            {"at": "2026-01-01T10:00:05+00:00", "step": "loaded"},
            {"at": "2026-01-01T10:00:05+00:00", "step": "follow_up"},
        ],
    }
    gateway = [
        {"at": "2026-01-01T10:00:09+00:00", "step": "pulled"},
        {"at": "2026-01-01T10:00:05+00:00", "step": "pushed"},
    ]
    result = joined(view, gateway)
    assert [s["step"] for s in result["timeline"]] == [
        "completed",
        "loaded",
        "follow_up",
        "pushed",
        "pulled",
    ]
    assert result["state"] == "loaded"
    assert [s["step"] for s in view["timeline"]] == ["completed", "loaded", "follow_up"]


def test_the_cli_names_the_attempts_of_a_push_in_the_chosen_language() -> None:
    step = {"at": "2026-01-01T10:00:00+00:00", "step": "push_failed", "attempts": 3}
    assert details(step, "ru") == "попыток: 3"
    assert details(step, "en") == "attempts: 3"


def test_the_operators_russian_guide_names_every_step_as_the_page_does() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "dashboard.ru.md").read_text(encoding="utf-8")
    table = guide.split("| шаг |", 1)[1].split("\n\n", 1)[0]
    for step, names in STEPS.items():
        assert names["ru"] in table, step


def test_a_step_names_its_device_by_pin_and_name_or_by_its_id_alone() -> None:
    assert who({"device": {"id": "dev-2", "pin": "5546", "name": "EDA51"}}, "ru") == "5546 EDA51"
    assert who({"device": {"id": "dev-2"}}, "ru") == "dev-2"  # not "None", not blank
    assert who({"user": "ivanov"}, "ru") == "ivanov"
