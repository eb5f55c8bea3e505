"""Message contracts. Importing this package registers every message type."""

from shared.contracts import catalog, directory, results, rpc, uploads
from shared.contracts.envelope import (
    Envelope,
    MalformedMessage,
    Payload,
    as_json,
    decode,
    encode,
    registered_types,
    wrap,
)

__all__ = [
    "Envelope",
    "MalformedMessage",
    "Payload",
    "as_json",
    "catalog",
    "decode",
    "directory",
    "encode",
    "registered_types",
    "results",
    "rpc",
    "uploads",
    "wrap",
]
