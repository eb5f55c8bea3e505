"""Each service stops cleanly on SIGTERM: messages in hand finish, the process exits 0."""

from __future__ import annotations

import json
import signal

from shared.cli.stack import Stack


def test_every_service_stops_cleanly_on_sigterm(fresh_stack: Stack) -> None:
    assert fresh_stack.log_dir is not None
    for service in fresh_stack.services:
        fresh_stack.kill(service, signal.SIGTERM)
        assert fresh_stack.processes[service].returncode == 0, service
        log = (fresh_stack.log_dir / f"{service}.log").read_text().splitlines()
        events = [json.loads(line)["event"] for line in log if line.startswith("{")]
        assert "service.stopped" in events, service
