"""The terminal web app: the page warehouse staff open on a handheld terminal or a phone.

One copy of its files (``web/``) is served by the gateway (internet mode) and by the LAN
writer (LAN mode) at ``/tsd/``; see ``shared.terminal_web``.
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR: Path = Path(__file__).resolve().parent / "web"
