"""QR codes of connection codes: the terminal drawing is exactly segno's matrix of the code."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from shared.qr import matrix_of, modules_of, qr_svg, qr_text

CODES = ["GLEA-YL5B-8VQC", "K7M2-Q9XP", "A", "Склад-1"]


@pytest.mark.parametrize("code", CODES)
def test_the_drawing_holds_every_module_of_the_code(code: str) -> None:
    drawing = qr_text(code)
    expected = matrix_of(code)
    drawn = modules_of(drawing)
    assert drawn[: len(expected)] == expected
    assert not any(any(row) for row in drawn[len(expected) :])  # only quiet zone below
    assert set(drawing) <= {"█", "▀", "▄", " ", "\n"}


def test_different_codes_draw_differently() -> None:
    assert qr_text("GLEA-YL5B-8VQC") != qr_text("GLEA-YL5B-8VQD")


def test_the_quiet_zone_is_light_all_round() -> None:
    lines = qr_text("K7M2-Q9XP").split("\n")
    assert set(lines[0]) == {"█"}
    assert all(line[:2] == "██" and line[-2:] == "██" for line in lines)


def test_the_svg_is_a_standalone_image_with_a_title() -> None:
    svg = qr_svg("K7M2-Q9XP", title="Код подключения")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title").text == "Код подключения"  # type: ignore[union-attr]
    assert qr_svg("K7M2-Q9XP") != qr_svg("K7M2-Q9XQ")
