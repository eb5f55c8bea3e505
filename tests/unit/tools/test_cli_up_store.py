"""``tsdx up`` says which store the services really use, never prints a password, and warns
while the admin token is still the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import Settings
from tools.cli.up import admin_token_warning, store_description, without_credentials


def test_sqlite_is_shown_with_the_files_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TSDX_STORE", raising=False)
    shown = store_description(Settings(), Path("/var/lib/tsdx"))
    assert shown == "sqlite /var/lib/tsdx/tsdx_*.sqlite3"


def test_mongo_is_shown_by_its_url_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSDX_STORE", "mongo")
    monkeypatch.setenv(
        "TSDX_MONGO_URL", "mongodb://tsdx:s3cret@db1:27017,db2:27017/?replicaSet=rs0"
    )
    shown = store_description(Settings(), Path("/var/lib/tsdx"))
    assert shown == "mongo mongodb://db1:27017,db2:27017/?replicaSet=rs0 (databases tsdx_*)"
    assert "s3cret" not in shown and "sqlite" not in shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mongodb://localhost:27017/?replicaSet=rs0", "mongodb://localhost:27017/?replicaSet=rs0"),
        ("mongodb+srv://u:p%40ss@cluster.example.ru/tsdx", "mongodb+srv://cluster.example.ru/tsdx"),
        (
            "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=xyz&authSource=admin",
            "mongodb://h/?tls=true&authSource=admin",
        ),
    ],
)
def test_credentials_are_cut_from_any_mongo_url(url: str, shown: str) -> None:
    assert without_credentials(url) == shown


def test_the_default_admin_token_is_warned_of_in_the_reader_s_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TSDX_ADMIN_TOKEN", raising=False)
    settings = Settings(_env_file=None)
    warning = admin_token_warning(settings, "ru")
    assert warning is not None and "TSDX_ADMIN_TOKEN" in warning and "ВНИМАНИЕ" in warning
    english = admin_token_warning(settings, "en")
    assert english is not None and english.strip().startswith("WARNING")


def test_an_admin_token_of_one_s_own_is_not_warned_of(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSDX_ADMIN_TOKEN", "a-token-of-our-own")
    assert admin_token_warning(Settings(_env_file=None), "ru") is None
