"""The gateway's in-memory credentials: kept, forgotten by id, never brought back by a late read."""

from __future__ import annotations

from services.gateway.credentials import CredentialCache
from services.gateway.records import DeviceCopy
from tests.support.gateway_copies import a_device, a_tenant


def _device(device_id: str, credential_hash: str, status: str = "active") -> DeviceCopy:
    return a_device(id=device_id, credential_hash=credential_hash, status=status)


def test_a_device_is_found_by_its_credential_until_forgotten_by_its_id() -> None:
    cache = CredentialCache()
    cache.keep_device(_device("d1", "h1"), cache.generation)
    assert cache.device("h1") == _device("d1", "h1")
    cache.forget_device("d1")
    assert cache.device("h1") is None


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    cache = CredentialCache()
    read_at = cache.generation  # a request starts reading the store
    cache.forget_device("d1")  # meanwhile the device is blocked
    cache.keep_device(_device("d1", "h1"), read_at)  # the read ends with the old copy
    assert cache.device("h1") is None


def test_a_new_credential_of_the_same_device_replaces_the_old_one() -> None:
    cache = CredentialCache()
    cache.keep_device(_device("d1", "old"), cache.generation)
    cache.keep_device(_device("d1", "new"), cache.generation)
    assert cache.device("old") is None
    assert cache.device("new") is not None


def test_bases_are_kept_by_key_and_forgotten_by_tenant() -> None:
    cache = CredentialCache()
    cache.keep_tenant(a_tenant(id="t1", api_key_hash="k1"), cache.generation)
    assert cache.tenant("k1") is not None
    cache.forget_tenant("t1")
    assert cache.tenant("k1") is None


def test_the_oldest_copies_go_first_beyond_the_size() -> None:
    cache = CredentialCache(size=2)
    for n in range(3):
        cache.keep_device(_device(f"d{n}", f"h{n}"), cache.generation)
    assert cache.device("h0") is None
    assert cache.device("h1") is not None and cache.device("h2") is not None
    assert len(cache) == 2


def test_clearing_forgets_everything_and_refuses_reads_begun_before() -> None:
    cache = CredentialCache()
    cache.keep_device(_device("d1", "h1"), cache.generation)
    read_at = cache.generation
    cache.clear()
    cache.keep_device(_device("d2", "h2"), read_at)
    assert len(cache) == 0
