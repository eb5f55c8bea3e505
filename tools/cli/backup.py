"""``tsdx backup DIR`` and ``tsdx restore DIR``: copies of the embedded (SQLite) stores.

A backup copies every service's store with SQLite's online backup API while the stack runs:
each copy is read in one read transaction, so it is the store exactly as it was at one moment,
whatever the service writes meanwhile (WAL lets it go on writing). The stores are copied one
after the other, and RabbitMQ's queues are not copied at all: what one service had already
handed to another through the broker, and the other had not yet applied, is in neither copy
(docs/deploy.md says precisely what a backup covers).

The data directory's secret key (``secret.key``, made on first start when ``TSDX_SECRET_KEYS``
is not set) is copied too, and restored with the stores: without it the restored gateway could
not open the webhook signing secrets sealed under it. A backup therefore holds a secret: keep it
as safe as the data directory.

A restore puts a backup into a data directory where no stack runs and nothing is yet, so that
it never mixes with other data.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.i18n import render
from shared.secret_box import KEY_FILE, write_private
from shared.settings import Settings
from tools.cli.output import OK, REFUSED, USAGE, CommandError, add_language_option, say

MANIFEST = "tsdx-backup.json"
# A service with its store open keeps these beside it (WAL mode); they go when it closes.
IN_USE_SUFFIXES = ("-wal", "-shm")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser(
        "backup", help="copy every service's SQLite store into DIR, while the stack runs"
    )
    backup.add_argument("dir", type=Path, help="an empty or new directory for the copy")
    backup.add_argument("--data-dir", type=Path, help="the stack's data (TSDX_DATA_DIR)")
    add_language_option(backup)
    backup.set_defaults(run=lambda args: _run(args, _backup))

    restore = commands.add_parser(
        "restore", help="put a backup made by tsdx backup into a new data directory"
    )
    restore.add_argument("dir", type=Path, help="the backup's directory")
    restore.add_argument(
        "--data-dir", type=Path, help="an empty or new data directory (TSDX_DATA_DIR)"
    )
    add_language_option(restore)
    restore.set_defaults(run=lambda args: _run(args, _restore))


def _run(args: argparse.Namespace, command: Any) -> int:
    try:
        command(args)
    except CommandError as exc:
        say(f"tsdx: {exc.message(args.lang)}")
        return exc.exit_code
    return OK


def _data_dir(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.data_dir or settings.data_dir).resolve()


def _require_empty(path: Path, code: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise CommandError(USAGE, code, path=str(path))


def _backup(args: argparse.Namespace) -> None:
    settings = Settings()
    if settings.store != "sqlite":
        raise CommandError(USAGE, "cli_backup_not_sqlite")
    data_dir = _data_dir(args, settings)
    target: Path = args.dir.resolve()
    stores = sorted(data_dir.glob(f"{settings.db_prefix}_*.sqlite3"))
    if not stores:
        raise CommandError(USAGE, "cli_backup_no_stores", path=str(data_dir))
    _require_empty(target, "cli_backup_target_not_empty")
    key = _key_of(data_dir)  # read first: a key that cannot be read stops the backup early
    target.mkdir(parents=True, exist_ok=True)
    copied = [_copy(store, target / store.name) for store in stores]
    manifest: dict[str, Any] = {"format": 1, "from": str(data_dir), "stores": copied}
    if key is not None:
        write_private(target / KEY_FILE, key)
        manifest["secret_key"] = KEY_FILE
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    print(render("cli_backup_done", args.lang, {"count": len(copied), "path": str(target)}))
    if key is not None:
        print(render("cli_backup_key_copied", args.lang, {"file": KEY_FILE}))


def _key_of(data_dir: Path) -> bytes | None:
    """The data directory's secret key, if it has one (none when TSDX_SECRET_KEYS is used)."""
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandError(
            REFUSED, "cli_backup_key_unreadable", path=str(path), reason=exc.strerror or str(exc)
        ) from None


def _copy(source: Path, target: Path) -> dict[str, Any]:
    started = datetime.now(UTC)
    with (
        closing(sqlite3.connect(source, timeout=30)) as src,
        closing(sqlite3.connect(target)) as dst,
    ):
        # One step: every page read in one read transaction, so the copy is one moment's.
        src.backup(dst)
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise CommandError(REFUSED, "cli_backup_damaged", path=str(source), check=check)
    return {
        "file": target.name,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
    }


def _restore(args: argparse.Namespace) -> None:
    settings = Settings()
    source: Path = args.dir.resolve()
    data_dir = _data_dir(args, settings)
    files, key = _backup_contents(source)
    if data_dir.is_dir():
        in_use = sorted(p.name for p in data_dir.iterdir() if p.name.endswith(IN_USE_SUFFIXES))
        if in_use:
            raise CommandError(
                REFUSED, "cli_restore_stack_running", path=str(data_dir), store=in_use[0]
            )
    _require_empty(data_dir, "cli_restore_target_not_empty")
    # Put together beside it, then given its name: the data directory appears whole (its
    # stores and its key) or not at all, and a restore cut short leaves nothing in the way.
    staging = data_dir.with_name(f".{data_dir.name}.restoring")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name in files:
            _restore_store(source / name, staging / name)
        if key is not None:
            write_private(staging / KEY_FILE, key)
        if data_dir.exists():
            data_dir.rmdir()  # empty: checked above
        staging.rename(data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(render("cli_restore_done", args.lang, {"count": len(files), "path": str(data_dir)}))


def _restore_store(source: Path, target: Path) -> None:
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise CommandError(
            REFUSED, "cli_restore_damaged", path=str(source), reason=str(exc)
        ) from None


def _backup_contents(source: Path) -> tuple[list[str], bytes | None]:
    """The stores a backup lists, and its secret key if it holds one; a directory that is not
    a whole backup is refused (before anything is written)."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
        files = [str(entry["file"]) for entry in manifest["stores"]]
        named = manifest.get("secret_key")  # absent from a backup made without a key
        key = None if named is None else (source / KEY_FILE).read_bytes()
        whole = named in (None, KEY_FILE) and bool(files)
        whole = whole and all((source / name).is_file() and "/" not in name for name in files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        whole = False
    if not whole:
        raise CommandError(USAGE, "cli_restore_not_a_backup", path=str(source), manifest=MANIFEST)
    return files, key
