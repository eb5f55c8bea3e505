"""When ``tsdx up`` may start the machine's own RabbitMQ: only for the address it answers on."""

from __future__ import annotations

import pytest

from tools.cli import broker_check


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:guest@localhost:5999/",  # a typo, or another setup's broker that is down
        "amqp://guest:guest@rabbit.example:5672/",  # not this machine's
    ],
)
def test_no_broker_is_started_for_an_address_it_would_not_answer_on(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    # As on a machine with RabbitMQ installed, whatever this one has.
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr("subprocess.run", lambda args, **_: started.append(args))
    assert broker_check.start_local_rabbitmq(url, wait_seconds=30) is False
    assert started == []  # nothing launched (so nothing waited for)
