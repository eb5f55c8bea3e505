"""The port a service listens on, taken before anything else starts."""

from __future__ import annotations

import socket


class PortUnavailable(Exception):
    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host, self.port, self.reason = host, port, reason


def listening_socket(host: str, port: int) -> socket.socket:
    """The service's HTTP socket, taken before anything else starts: a process whose port is
    taken (another tsdx already running) stops before it consumes a single message."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # listening at once: a second process can no longer bind the port
    except OSError as exc:
        sock.close()
        raise PortUnavailable(host, port, exc.strerror or str(exc)) from None
    return sock
