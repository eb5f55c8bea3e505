"""Broker addresses of a cluster: parsing the list, the order of attempts, the pause between
them, and the replication size of quorum queues (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.messaging.addresses import (
    AddressRing,
    BadAddressList,
    parse_addresses,
    parse_api_addresses,
    quorum_group_size,
    reconnect_pause,
)
from shared.settings import Settings

A = "amqp://tsdx:pw@rabbit-1:5672/tsdx"
B = "amqp://tsdx:pw@rabbit-2:5672/tsdx"
C = "amqps://tsdx:pw@rabbit-3:5671/tsdx"


def test_the_list_wins_over_the_single_address() -> None:
    assert parse_addresses(f"{A}, {B} ,{C}", "amqp://guest:guest@localhost/") == (A, B, C)


def test_without_a_list_the_single_address_is_used() -> None:
    assert parse_addresses(None, A) == (A,)
    assert parse_addresses("", A) == (A,)


def test_blank_entries_are_skipped_and_repeats_kept_once() -> None:
    assert parse_addresses(f"{A},,{B},{A}, ", "unused") == (A, B)


@pytest.mark.parametrize(
    "urls", ["http://rabbit-1:15672/", "rabbit-1:5672", "amqp://", f"{A},redis://x:6379"]
)
def test_an_address_that_is_not_amqp_is_refused(urls: str) -> None:
    with pytest.raises(BadAddressList, match="not an AMQP address"):
        parse_addresses(urls, A)


def test_a_refused_address_is_shown_without_its_password() -> None:
    with pytest.raises(BadAddressList) as refused:
        parse_addresses("amqp://tsdx:s3cret@/vhost", A)
    assert "s3cret" not in str(refused.value)


def test_settings_refuse_a_bad_list_at_start_without_showing_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(amqp_urls=f"{A},http://tsdx:s3cret@rabbit-2/")
    assert "not an AMQP address" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_settings_give_the_addresses_and_the_replicas() -> None:
    settings = Settings(amqp_urls=f"{A},{B},{C}")
    assert settings.amqp_addresses == (A, B, C)
    assert settings.quorum_replicas == 3
    assert Settings(amqp_url=A).quorum_replicas is None


@pytest.mark.parametrize(
    ("configured", "addresses", "expected"),
    [
        (None, 1, None),  # one broker, or a balancer: the broker decides, as before
        (None, 2, 2),
        (None, 3, 3),
        (None, 5, 3),  # a quorum of three is enough; more replicas cost every write
        (5, 5, 5),  # the operator's choice wins
        (0, 3, None),  # 0: never sent
        (1, 3, 1),
    ],
)
def test_quorum_group_size(configured: int | None, addresses: int, expected: int | None) -> None:
    assert quorum_group_size(configured, addresses) == expected


def test_attempts_go_to_each_address_in_turn_and_round_again() -> None:
    ring = AddressRing((A, B, C))
    assert [ring.take() for _ in range(5)] == [A, B, C, A, B]
    assert ring.current == B


def test_after_losing_a_node_the_next_attempt_goes_to_another() -> None:
    ring = AddressRing((A, B, C))
    assert ring.take() == A
    ring.connected()
    # The connection to A is lost: the next attempt is B, with no long pause.
    assert ring.take() == B
    assert ring.pause == pytest.approx(0.1)


def test_the_pause_grows_only_after_a_full_round_of_failures_and_resets_on_success() -> None:
    ring = AddressRing((A, B, C), first_pause=0.1, max_pause=1.0)
    pauses = []
    for _ in range(12):
        ring.take()
        ring.failed()
        pauses.append(ring.pause)
    assert pauses[:2] == [0.1, 0.1]  # untried addresses left in the first round
    assert pauses[2:5] == [0.2, 0.2, 0.2]
    assert pauses[5:8] == [0.4, 0.4, 0.4]
    assert pauses[-1] == 1.0  # capped
    ring.connected()
    assert ring.pause == 0.1


def test_reconnect_pause_for_a_single_address_doubles_each_time() -> None:
    assert [reconnect_pause(n, 1, 0.5, 5.0) for n in range(6)] == [0.5, 1, 2, 4, 5, 5]


def test_a_ring_needs_an_address() -> None:
    with pytest.raises(BadAddressList):
        AddressRing(())


def test_failover_wraps_the_connection_attempt_of_the_installed_aio_pika() -> None:
    from aio_pika.robust_connection import RobustConnection

    from shared.messaging.broker import FailoverConnection

    # Each (re)connection attempt of aio-pika goes through this one method, which failover
    # overrides to take the next address: an aio-pika without it must fail here, loudly.
    seam = "_RobustConnection__connect_transport"
    assert callable(getattr(RobustConnection, seam, None))
    assert FailoverConnection.__dict__[seam] is not RobustConnection.__dict__[seam]


M1 = "http://tsdx:pw@rabbit-1:15672/api"
M2 = "https://tsdx:pw@rabbit-2:15671/api"


def test_management_apis_follow_the_same_rules_as_broker_addresses() -> None:
    assert parse_api_addresses(f"{M1}, {M2},{M1}", "unused") == (M1, M2)
    assert parse_api_addresses(None, M1) == (M1,)
    with pytest.raises(BadAddressList, match="not a management API address"):
        parse_api_addresses(f"{M1},amqp://tsdx:s3cret@rabbit-2/", M1)
    with pytest.raises(BadAddressList, match="not a management API address"):
        parse_api_addresses("http://tsdx:pw@rabbit-1:abc/api", M1)  # a port that is no number
    with pytest.raises(BadAddressList, match="no management API address given"):
        parse_api_addresses(" , ", M1)


def test_settings_refuse_a_bad_management_list_at_start_without_showing_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(rabbitmq_api_urls=f"{M1},ftp://tsdx:s3cret@rabbit-2/api")
    assert "not a management API address" in str(refused.value)
    assert "s3cret" not in str(refused.value)
    assert Settings(rabbitmq_api_urls=f"{M1},{M2}").rabbitmq_api_addresses == (M1, M2)
    alone = Settings(rabbitmq_api_url=M2, rabbitmq_api_urls=None)  # whatever the environment
    assert alone.rabbitmq_api_addresses == (M2,)
