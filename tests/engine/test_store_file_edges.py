"""Store files at their edges: exact size limits, bytes and text, failed writes that leave nothing behind, folders."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from engine import store_files
from engine.store_files import UnsafeFile, ensure_dir, read_regular, restrict_umask, write_atomic


def test_a_file_of_exactly_the_limit_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "f.json").write_bytes(b"x" * 64)
    assert read_regular(tmp_path / "f.json", limit=64) == b"x" * 64


def test_a_file_one_byte_over_the_limit_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "f.json").write_bytes(b"x" * 65)
    with pytest.raises(UnsafeFile) as caught:
        read_regular(tmp_path / "f.json", limit=64)
    assert str(caught.value) == "f.json is larger than 64 bytes"


def test_a_file_that_grows_while_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(b"x" * 64)
    real_fstat = os.fstat

    def grows(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        path.write_bytes(b"x" * 100)  # another process appends after the size was checked
        return info

    monkeypatch.setattr(store_files.os, "fstat", grows)
    with pytest.raises(UnsafeFile) as caught:
        read_regular(path, limit=64)
    assert str(caught.value) == "f.json grew past 64 bytes while read"


def test_bytes_are_written_as_they_are(tmp_path: Path) -> None:
    write_atomic(tmp_path / "plan.bin", b"\x00\xff")
    assert (tmp_path / "plan.bin").read_bytes() == b"\x00\xff"


def test_a_write_creates_missing_folders(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "b" / "f.json", "{}")
    assert (tmp_path / "a" / "b" / "f.json").read_text() == "{}"


def test_a_write_does_not_depend_on_the_system_temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-tmp"))
    write_atomic(tmp_path / "f.json", "{}")
    assert (tmp_path / "f.json").read_text() == "{}"


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    write_atomic(tmp_path / "f.json", "old")
    with pytest.raises(TypeError):
        write_atomic(tmp_path / "f.json", 42)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"] and (tmp_path / "f.json").read_text() == "old"


def test_a_temporary_file_that_cannot_be_removed_does_not_hide_the_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    def cannot(path: str) -> None:
        raise PermissionError(path)

    monkeypatch.setattr(store_files.os, "replace", disk_full)
    monkeypatch.setattr(store_files.os, "unlink", cannot)
    with pytest.raises(OSError, match="No space left on device"):
        write_atomic(tmp_path / "f.json", "{}")


def test_a_folder_is_created_with_its_parents_and_exact_mode(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        folder = ensure_dir(tmp_path / "a" / "b", 0o1777)
    finally:
        os.umask(old)
    assert (folder, stat.S_IMODE(folder.stat().st_mode)) == (tmp_path / "a" / "b", 0o1777)


def test_an_existing_folder_of_ours_gets_the_mode(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir(mode=0o755)
    assert stat.S_IMODE(ensure_dir(tmp_path / "plans", 0o700).stat().st_mode) == 0o700


def test_a_folder_of_another_user_is_left_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plans").mkdir(mode=0o755)
    (tmp_path / "plans").chmod(0o755)
    monkeypatch.setattr(store_files.os, "getuid", lambda: os.stat(tmp_path).st_uid + 1)
    assert stat.S_IMODE(ensure_dir(tmp_path / "plans", 0o700).stat().st_mode) == 0o755


def umask_after(signed_mode: bool) -> int:
    old = os.umask(0o022)
    try:
        restrict_umask(signed_mode)
        return os.umask(0o022)
    finally:
        os.umask(old)


def test_signed_mode_makes_new_files_private_to_the_user() -> None:
    assert umask_after(signed_mode=True) == 0o077


def test_dev_mode_leaves_the_umask_alone() -> None:
    assert umask_after(signed_mode=False) == 0o022
