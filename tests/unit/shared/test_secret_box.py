"""Secrets kept for signing are encrypted with Fernet; keys rotate without losing them."""

from __future__ import annotations

import pytest

from shared.secret_box import KeysInvalid, SecretBox, SecretUnreadable, new_key, parse_keys


def test_a_sealed_secret_opens_with_its_key_and_shows_nothing_in_clear() -> None:
    box = SecretBox([new_key()])
    sealed = box.seal("whsec_abc")
    assert "whsec_abc" not in sealed
    assert box.seal("whsec_abc") != sealed  # a fresh IV every time
    assert box.open(sealed) == "whsec_abc"


def test_rotation_new_key_first_old_ones_still_open() -> None:
    old, new = new_key(), new_key()
    sealed_before = SecretBox([old]).seal("whsec_abc")
    rotated = SecretBox([new, old])
    assert rotated.open(sealed_before) == "whsec_abc"
    assert not rotated.is_current(sealed_before)
    resealed = rotated.reseal(sealed_before)
    assert rotated.is_current(resealed)
    # Once resealed, the old key can go.
    assert SecretBox([new]).open(resealed) == "whsec_abc"
    with pytest.raises(SecretUnreadable):
        SecretBox([new]).open(sealed_before)


@pytest.mark.parametrize("keys", [[], ["not-a-key"], ["c2hvcnQ="]])
def test_keys_that_are_not_fernet_keys_are_refused(keys: list[str]) -> None:
    with pytest.raises(KeysInvalid):
        SecretBox(keys)


def test_keys_are_read_comma_separated() -> None:
    assert parse_keys(" a, b ,,c ") == ["a", "b", "c"]
    assert parse_keys("") == []


def test_the_cli_prints_a_key_the_box_takes(capsys: pytest.CaptureFixture[str]) -> None:
    from tools.cli.main import main

    assert main(["secret-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert SecretBox([key]).open(SecretBox([key]).seal("s")) == "s"
