"""The integrator's guide and the 1C module read answers the one way that works in 1C: into a
``Соответствие`` (``ПрочитатьJSON(Чтение, Истина)``), since some answer keys are not 1C
identifiers. Checked with a reader that applies 1C's rules for a ``Структура``."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.onec_text import (
    GUIDES,
    NotAStructureKey,
    bsl_blocks,
    code_only,
    documented_answers,
    module_text,
    read_as_1c,
)

CODE = [
    *[pytest.param(block, id=f"{g.name}-bsl-{n}") for g in GUIDES for n, block in
      enumerate(bsl_blocks(g), start=1)],
    pytest.param(module_text(), id="ОбменТСД.bsl"),
]  # fmt: skip


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.name)
def test_every_example_answer_is_read_by_1c_into_a_map(guide: object) -> None:
    answers = documented_answers(guide)  # type: ignore[arg-type]
    assert {"result", "results", "devices", "upload-accepted"} <= set(answers)
    for text in answers.values():
        read_as_1c(text, into_map=True)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda g: g.name)
def test_a_result_could_not_be_read_into_a_structure(guide: object) -> None:
    """Why the guide insists: per_user is keyed by device ids, extra by dotted 1C names."""
    result = documented_answers(guide)["result"]  # type: ignore[arg-type]
    with pytest.raises(NotAStructureKey):
        read_as_1c(result, into_map=False)


@pytest.mark.parametrize(
    ("key", "fits"),
    [("device_id", True), ("Контрагент", True), ("_x1", True), ("8798f318", False),
     ("Контрагент.Код", False), ("i.ivanov@corp", False), ("sklad-1", False), ("", False)],
)  # fmt: skip
def test_the_reader_applies_1cs_identifier_rules(key: str, fits: bool) -> None:
    text = json.dumps({key: 1})
    if fits:
        assert read_as_1c(text, into_map=False) == {key: 1}
    else:
        with pytest.raises(NotAStructureKey):
            read_as_1c(text, into_map=False)


@pytest.mark.parametrize("code", CODE)
def test_1c_code_reads_answers_into_maps_and_by_key(code: str) -> None:
    bare = code_only(code)
    for arguments in re.findall(r"ПрочитатьJSON\(([^)]*)\)", bare):
        assert arguments.replace(" ", "").endswith(",Истина"), arguments
    # A Соответствие has no properties: `Ответ.deliveries` would fail where `Ответ["deliveries"]`
    # works. Latin names after a dot are always answer fields (1C's own names are Cyrillic).
    assert not re.findall(r"\.[a-z_]+\b", bare)


def test_the_russian_guide_keeps_to_the_english_ones_sections() -> None:
    english, russian = (guide.read_text(encoding="utf-8") for guide in GUIDES)
    for pattern in (r"^#{2,3} .*", r"^```\w*$", r"`(?:GET|POST|PUT|DELETE) /api/v1/[^`]*`"):
        shown = [re.findall(pattern, text, re.M) for text in (english, russian)]
        if pattern.startswith("`"):
            assert shown[0] == shown[1]  # the same endpoints, in the same order
        else:
            assert len(shown[0]) == len(shown[1]), pattern
    assert documented_answers(GUIDES[0]) == documented_answers(GUIDES[1])
    assert "accounting-api.ru.md" in english and "accounting-api.md" in russian
