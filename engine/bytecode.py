"""Bytecode is never trusted from the checkout: compiled code lives in a private per-user cache.

A `.pyc` planted in a `__pycache__` folder of the checkout would run inside the engine without changing the program
digest. With `sys.pycache_prefix` pointing at a folder only this OS user can write, Python neither reads nor writes
bytecode next to the sources. A deployment sets `PYTHONPYCACHEPREFIX` itself (so that even the first module imported
is covered); otherwise `engine/__init__.py` sets it before any other project module is imported.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path


def private_prefix() -> Path:
    """`$PYTHONPYCACHEPREFIX`, or `$XDG_CACHE_HOME/datamcp/pycache` (default `~/.cache`) for this OS user."""
    configured = os.environ.get("PYTHONPYCACHEPREFIX")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "datamcp" / "pycache"


def is_private(folder: Path) -> bool:
    """A folder this user owns that no one else may write, below folders no one else could swap it out of (each
    owned by this user or root, and not writable by others unless sticky, as /tmp is)."""
    try:
        info = folder.stat()
    except OSError:
        return False
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return all(_safe_parent(parent) for parent in folder.resolve().parents)


def _safe_parent(folder: Path) -> bool:
    info = folder.stat()
    writable_by_others = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return info.st_uid in (0, os.getuid()) and (not writable_by_others or bool(info.st_mode & stat.S_ISVTX))


class UnsafeBytecodeCache(RuntimeError):
    """The bytecode cache Python was told to use is not private: modules may already have come from it."""


def use_private_prefix() -> Path:
    """Point this process (and the processes it starts) at the private prefix.

    Bytecode is written there even under PYTHONDONTWRITEBYTECODE: the cache is private, and recompiling the cloud
    SDKs in every process costs seconds. A configured prefix that others could write is refused (Python may have
    loaded this very package from it); a default one that cannot be made private gives way to a fresh private
    folder, never to the checkout's `__pycache__`.
    """
    prefix = private_prefix()
    with contextlib.suppress(OSError):
        prefix.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not is_private(prefix):
        if os.environ.get("PYTHONPYCACHEPREFIX"):
            raise UnsafeBytecodeCache(
                f"PYTHONPYCACHEPREFIX={prefix} is not private to this user (or a folder above it can be swapped): "
                "refusing to run code that may have come from it"
            )
        prefix = Path(tempfile.mkdtemp(prefix="datamcp-pycache-"))
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    return prefix
