"""QR codes of connection codes: a terminal's pairing screen takes the scanned text as the code.

Made with segno (pure Python, no dependencies). The payload is the code itself and nothing
else, so any scanner (the terminal's imager, a phone's camera) types exactly the code.
"""

from __future__ import annotations

import io

import segno

_BORDER = 2  # modules of quiet zone: enough for imagers, small in a terminal window


def _qr(text: str) -> segno.QRCode:
    return segno.make(text, micro=False, error="m")


def qr_svg(text: str, *, scale: int = 6, title: str | None = None) -> str:
    """A standalone SVG (black on white), usable as an image or inline in HTML."""
    out = io.BytesIO()
    _qr(text).save(
        out,
        kind="svg",
        scale=scale,
        border=_BORDER * 2,
        dark="#000",
        light="#fff",
        xmldecl=False,
        title=title,
    )
    return out.getvalue().decode("utf-8")


def qr_text(text: str) -> str:
    """The QR code drawn with block characters, two modules a line, for a terminal window.

    Light modules are drawn (█ ▀ ▄) and dark ones left blank, as ``qrencode -t UTF8`` does:
    it reads as black on white in a terminal with light text on a dark background."""
    rows = [list(row) for row in _qr(text).matrix_iter(border=_BORDER)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))  # one more light row of quiet zone
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        lines.append("".join(_BLOCKS[(not t, not b)] for t, b in zip(top, bottom, strict=True)))
    return "\n".join(lines)


# (top light, bottom light) -> character
_BLOCKS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def modules_of(drawing: str) -> list[list[bool]]:
    """The dark modules of a :func:`qr_text` drawing (what a camera reads), row by row."""
    rows: list[list[bool]] = []
    for line in drawing.split("\n"):
        rows.append([char in " ▄" for char in line])  # top half dark
        rows.append([char in " ▀" for char in line])  # bottom half dark
    return rows


def matrix_of(text: str) -> list[list[bool]]:
    """The QR code of ``text`` with its quiet zone, as segno builds it (True: dark)."""
    return [[bool(m) for m in row] for row in _qr(text).matrix_iter(border=_BORDER)]
