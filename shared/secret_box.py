"""Secrets that must be used in clear (a webhook's signing key), encrypted at rest.

Fernet (from ``cryptography``: AES-128-CBC with HMAC-SHA256, authenticated) under the keys in
``TSDX_SECRET_KEYS``, comma-separated: the first encrypts, every one decrypts (MultiFernet), so
keys can be rotated without losing what was sealed with an older one:

1. ``tsdx secret-key`` prints a new key;
2. put it first in ``TSDX_SECRET_KEYS`` (``new,old``) on every gateway and restart them: at
   start each gateway seals again, under the first key, every secret sealed with another one;
3. when every gateway has restarted, remove the old key.

Without ``TSDX_SECRET_KEYS`` a key is generated on first start into ``<data dir>/secret.key``
(mode 0600) and used from then on: right for one machine; several gateway replicas, or a data
directory that is not kept, need ``TSDX_SECRET_KEYS`` set to the same keys everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_FILE = "secret.key"


class SecretUnreadable(Exception):
    """A sealed secret that none of the configured keys opens (a key removed too early)."""


class KeysInvalid(ValueError):
    """``TSDX_SECRET_KEYS`` holds something that is not a Fernet key."""


def new_key() -> str:
    return Fernet.generate_key().decode()


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise KeysInvalid("no key")
        try:
            self._fernets = [Fernet(key.encode()) for key in keys]
        except ValueError:
            raise KeysInvalid("a key is not 32 url-safe base64-encoded bytes") from None
        self._all = MultiFernet(self._fernets)

    def seal(self, clear: str) -> str:
        return self._all.encrypt(clear.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._all.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured key opens this secret") from None

    def is_current(self, sealed: str) -> bool:
        """Sealed under the first key (nothing to do when rotating)."""
        try:
            self._fernets[0].decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the first key."""
        try:
            return self._all.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("no configured key opens this secret") from None


def parse_keys(text: str) -> list[str]:
    return [key.strip() for key in text.split(",") if key.strip()]


def load_box(keys_setting: str, data_dir: Path) -> SecretBox:
    """The box of ``TSDX_SECRET_KEYS``, or of the key file in the data directory (made on
    first use, readable by this user only)."""
    keys = parse_keys(keys_setting)
    if keys:
        return SecretBox(keys)
    path = data_dir / KEY_FILE
    if not path.exists():
        _write_new_key(path)
    text = path.read_text().strip()
    if not text:
        raise KeysInvalid(f"{path} is empty")
    return SecretBox([text])


def _write_new_key(path: Path) -> None:
    """Of several processes starting at once, one names its key and the others find it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        write_private(path, (new_key() + "\n").encode())


def write_private(path: Path, content: bytes) -> None:
    """A file readable by this user only, written whole and then given its name, so that a
    half-written key never stands under it; FileExistsError if the name is taken (a hard link
    never replaces a file). The draft goes whatever happens; the name is made durable."""
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
