"""Files in stores others may write to: read only regular files, bounded, never through a link; write whole files
with their mode set on the open descriptor (a path can be swapped for a link between two calls)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

MAX_STORE_FILE = 64 * 1024 * 1024  # bytes; a preview of thousands of resources fits many times over


class UnsafeFile(OSError):
    """Not a regular file of a sane size (a link, a FIFO, a device, or huge)."""


def read_regular(path: Path, limit: int = MAX_STORE_FILE) -> bytes:
    """The bytes of a regular file, refusing links, FIFOs and devices (no hang) and anything over `limit`."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise UnsafeFile(f"{path.name} is larger than {limit} bytes")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFile(f"{path.name} grew past {limit} bytes while read")
    return data


def write_atomic(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    """Replace `path` whole; the mode is set on the descriptor, so no swapped-in link can redirect it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text.encode() if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ensure_dir(path: Path, mode: int) -> Path:
    """A folder with exactly `mode` (whatever the umask), created if missing."""
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != mode and path.stat().st_uid == os.getuid():
        path.chmod(mode)
    return path


def restrict_umask(signed_mode: bool) -> None:
    """In signed mode the process's new files are private to its user (state, backend, keys); store files set
    their own modes. Called by the entry points, never by library code (the umask is process-wide)."""
    if signed_mode:
        os.umask(0o077)
