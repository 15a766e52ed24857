"""Store files others may write: odd files never hang or exhaust the engine, and writes cannot be redirected."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from engine.store_files import UnsafeFile, read_regular, write_atomic


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "approval.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(UnsafeFile, match="not a regular file"):
        read_regular(fifo)
    assert time.monotonic() - started < 2


def test_a_link_is_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "server.key"
    secret.write_text("private")
    (tmp_path / "preview.json").symlink_to(secret)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        read_regular(tmp_path / "preview.json")


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "approval.json"
    with huge.open("wb") as f:
        f.truncate(4 * 1024**3)  # sparse: 4 GiB that would exhaust memory if read
    with pytest.raises(UnsafeFile, match="larger than"):
        read_regular(huge, limit=64 * 1024)


def test_a_write_replaces_a_planted_link_instead_of_following_it(tmp_path: Path) -> None:
    secret = tmp_path / "server.key"
    secret.write_text("private")
    secret.chmod(0o600)
    target = tmp_path / "preview.json"
    target.symlink_to(secret)
    write_atomic(target, "{}")
    assert not target.is_symlink() and target.read_text() == "{}"
    assert secret.read_text() == "private" and stat.S_IMODE(secret.stat().st_mode) == 0o600


def test_store_files_get_their_mode_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "preview.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "preview.json").stat().st_mode) == 0o644
