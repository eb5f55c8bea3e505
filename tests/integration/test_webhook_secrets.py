"""Webhook secrets at rest: the key file made on first start, and secrets sealed again under the
first key at start (after a rotation, or when an older version kept them in clear)."""

from __future__ import annotations

import stat
from pathlib import Path

from services.gateway import repository as repo
from services.gateway.webhooks import reseal_secrets
from shared.secret_box import KEY_FILE, SecretBox, load_box, new_key
from shared.storage.sqlite import SQLiteStore


def test_without_configured_keys_one_is_made_readable_by_this_user_only(tmp_path: Path) -> None:
    first = load_box("", tmp_path)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = load_box("", tmp_path)  # the next start uses the same key
    assert again.open(first.seal("whsec_x")) == "whsec_x"
    configured = load_box(new_key(), tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere" / KEY_FILE).exists()
    assert configured.open(configured.seal("y")) == "y"


async def test_secrets_are_sealed_again_under_the_first_key_and_never_kept_in_clear(
    tmp_path: Path,
) -> None:
    old, new = new_key(), new_key()
    store = SQLiteStore(tmp_path / "gateway.sqlite3")
    await store.open(repo.COLLECTIONS)
    try:
        await store.insert(
            repo.WEBHOOKS.name,
            {"id": "t1", "url": "https://a.example", "sealed_secret": SecretBox([old]).seal("s1")},
        )
        await store.insert(  # as an older version stored it
            repo.WEBHOOKS.name, {"id": "t2", "url": "https://b.example", "secret": "whsec_s2"}
        )
        box = SecretBox([new, old])
        assert await reseal_secrets(store, box) == 2
        assert await reseal_secrets(store, box) == 0  # nothing left to do
        only_new = SecretBox([new])
        rows = {row["id"]: row for row in await store.find(repo.WEBHOOKS.name)}
        assert only_new.open(rows["t1"]["sealed_secret"]) == "s1"
        assert only_new.open(rows["t2"]["sealed_secret"]) == "whsec_s2"
        assert rows["t2"]["secret"] is None
    finally:
        await store.close()
