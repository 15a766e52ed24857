"""Asking a tool its version: once per binary file, again when the file is replaced."""

from __future__ import annotations

import os
import time
from pathlib import Path

from engine.toolchain import tool_version


def _fake(path: Path, version: str, calls: Path) -> None:
    path.write_text(f"#!/bin/sh\necho x >> '{calls}'\necho v{version}\n")
    path.chmod(0o755)


def test_a_version_is_asked_once_per_binary_and_again_after_the_binary_changes(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    binary = tmp_path / "pulumi"
    _fake(binary, "3.259.0", calls)
    assert [tool_version("pulumi", binary) for _ in range(3)] == ["3.259.0"] * 3
    assert calls.read_text().count("x") == 1
    replacement = tmp_path / "pulumi.new"
    _fake(replacement, "3.1.0", calls)
    os.replace(replacement, binary)  # a new file where the old one was: another inode
    assert tool_version("pulumi", binary) == "3.1.0"
    assert calls.read_text().count("x") == 2


def test_a_binary_rewritten_in_place_with_its_size_and_times_put_back_is_asked_again(tmp_path: Path) -> None:
    """Its owner can rewrite the file in place (same inode), keep its size and set its modification time back; only
    the change time, which nobody sets, still says it is another binary."""
    binary = tmp_path / "pulumi"
    _fake(binary, "3.259.0", tmp_path / "calls")
    before = binary.stat()
    assert tool_version("pulumi", binary) == "3.259.0"
    time.sleep(0.05)  # past the file system's timestamp granularity
    with binary.open("r+") as f:
        f.write(binary.read_text().replace("3.259.0", "3.111.0"))
    os.utime(binary, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = binary.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert tool_version("pulumi", binary) == "3.111.0"


def test_a_binary_that_cannot_run_has_no_version_and_is_asked_again(tmp_path: Path) -> None:
    binary = tmp_path / "pulumi"
    binary.write_text("#!/bin/sh\nexit 3\n")
    binary.chmod(0o755)
    assert tool_version("pulumi", binary) is None
    _fake(binary, "3.259.0", tmp_path / "calls")  # fixed in place (same inode, new size)
    assert tool_version("pulumi", binary) == "3.259.0"
    assert tool_version("pulumi", tmp_path / "missing") is None
