"""Which release of tsdx this is: the installed package's version (pyproject.toml), shown by
``tsdx --version``, every service's ``/healthz`` and its ``service.started`` log line, so an
operator can tell what runs where during an upgrade."""

from __future__ import annotations

from importlib import metadata


def _installed() -> str:
    try:
        return metadata.version("tsdx")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


VERSION = _installed()
