"""Which decisions are news to the registry's known-devices list (pure logic, a clock of the
test's own)."""

from __future__ import annotations

from services.routing.device_news import DeviceNews
from tests.support.clock import Clock


def test_a_devices_first_use_is_news_and_its_uses_within_the_interval_are_not() -> None:
    clock = Clock()
    news = DeviceNews(told_for=60, clock=clock)
    assert news.is_news("sklad", ["d1"])
    news.told("sklad", ["d1"])
    clock.now += 59.9
    assert not news.is_news("sklad", ["d1"])
    clock.now += 0.1
    assert news.is_news("sklad", ["d1"])


def test_one_device_not_told_of_makes_the_decision_news() -> None:
    news = DeviceNews(told_for=60, clock=Clock())
    news.told("sklad", ["d1"])
    assert news.is_news("sklad", ["d1", "d2"])
    assert not news.is_news("sklad", [])  # reaching no device tells the list nothing


def test_each_base_is_told_of_its_own_use_of_a_device() -> None:
    news = DeviceNews(told_for=60, clock=Clock())
    news.told("sklad", ["d1"])
    assert news.is_news("magazin", ["d1"])


def test_the_memory_forgets_what_is_news_again_anyway_and_the_oldest_past_its_bound() -> None:
    clock = Clock()
    news = DeviceNews(told_for=60, at_most=2, clock=clock)
    news.told("sklad", ["old"])
    clock.now += 61
    news.told("sklad", ["d1"])
    assert news.remembered == 1  # "old" would be news again: forgotten
    clock.now += 1
    news.told("sklad", ["d2"])
    news.told("sklad", ["d1"])  # told again: now the latest
    news.told("sklad", ["d3"])  # past the bound: the one told longest ago goes
    assert news.remembered == 2
    assert news.is_news("sklad", ["d2"])
    assert not news.is_news("sklad", ["d1", "d3"])
