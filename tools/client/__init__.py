"""Python clients of tsdx's own HTTP APIs: what the CLI, the simulator and the tests use."""

from tools.client.api import AccountingClient, AdminClient, ApiError, TerminalClient

__all__ = ["AccountingClient", "AdminClient", "ApiError", "TerminalClient"]
