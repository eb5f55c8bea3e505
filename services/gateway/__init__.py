"""Gateway: the one internet-facing door, for terminals and for accounting systems."""
