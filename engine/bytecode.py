"""Bytecode is never trusted from the checkout: compiled code lives in a private per-user cache.

A `.pyc` planted in a `__pycache__` folder of the checkout would run inside the engine without changing the program
digest. With `sys.pycache_prefix` pointing at a folder only this OS user can write, Python neither reads nor writes
bytecode next to the sources. A deployment sets `PYTHONPYCACHEPREFIX` itself (so that even the first module imported
is covered); otherwise `engine/__init__.py` sets it before any other project module is imported.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path


def private_prefix() -> Path:
    """`$PYTHONPYCACHEPREFIX`, or `$XDG_CACHE_HOME/datamcp/pycache` (default `~/.cache`) for this OS user."""
    configured = os.environ.get("PYTHONPYCACHEPREFIX")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "datamcp" / "pycache"


def is_private(folder: Path) -> bool:
    """A folder this user owns that no one else may write (nor any folder above it that another user could swap)."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def use_private_prefix() -> Path | None:
    """Point this process (and the processes it starts) at the private prefix; None if it cannot be made private.

    Bytecode is written there even under PYTHONDONTWRITEBYTECODE: the cache is private, and recompiling the cloud
    SDKs in every process costs seconds.
    """
    prefix = private_prefix()
    try:
        prefix.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    if not is_private(prefix):
        return None
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    return prefix
