"""Secrets: generation and hashing. Nothing secret is ever stored or logged in clear.

API keys, device credentials and connection codes are long random tokens, so one SHA-256 is
enough to store them and lets a service find a record by the hash. Passwords chosen by people
(LAN log-in) get a slow, salted hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(prefix: str, nbytes: int = 24) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


# Connection codes: short enough to type on a terminal keyboard, long enough not to guess: 12
# characters of base32 without the look-alikes (I, O, 0, 1), shown in groups of four.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 12


def new_connection_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return _grouped(raw)


def _grouped(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


# A scanner or keyboard left in the Russian layout types each Latin letter as the Cyrillic one
# on its key (ЙЦУКЕН over QWERTY): the code is read back through the keys.
_THROUGH_RUSSIAN_KEYS = str.maketrans("ЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬ", "QWERTYUIOPASDFGHJKLZXCVBNM")


def connection_code_as_issued(typed: str) -> str:
    """A connection code as typed on a terminal (lower case, without the dashes, with spaces,
    in the Russian keyboard layout) in the form it was issued in; anything that cannot be one,
    as it was typed."""
    upper = typed.upper().translate(_THROUGH_RUSSIAN_KEYS)
    raw = "".join(ch for ch in upper if ch not in " -\t")
    if len(raw) == _CODE_LENGTH and all(ch in _CODE_ALPHABET for ch in raw):
        return _grouped(raw)
    return typed


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, _digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hash_password(password, salt=bytes.fromhex(salt_hex))
    return hmac.compare_digest(candidate, stored)
