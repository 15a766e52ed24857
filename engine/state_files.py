"""Reading a stack's last known state straight from a file backend, so read views need no CLI process.

Only what the state holds in the clear is used: secret values stay ciphertext and show as "[secret]". Answers are
cached by the state file's identity (inode, size, modification time), so a changed stack is read again.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from engine.masking import SECRET, Masker
from engine.store_files import UnsafeFile, read_regular

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # noqa: S105 - Pulumi's marker of a secret in serialised state
STACK_TYPE = "pulumi:pulumi:Stack"


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return SECRET
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


class StateFiles:
    """The checkpoints of one file backend, read and cached per stack."""

    def __init__(self, backend: Path, project: str) -> None:
        self.folder = backend / ".pulumi" / "stacks" / project
        self._cache: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def outputs(self, stack: str) -> dict[str, Any] | None:
        """The stack's outputs (secrets "[secret]"); {} for a stack with no state; None when the file can't say."""
        path = self.folder / f"{stack}.json"
        try:
            info = path.stat()
        except FileNotFoundError:
            return {} if not (self.folder / f"{stack}.json.gz").exists() else None
        key = (info.st_ino, info.st_size, info.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(stack)
        if cached is not None and cached[0] == key:
            return cached[1]
        outputs = self._read(path)
        if outputs is not None:
            with self._lock:
                self._cache[stack] = (key, outputs)
        return outputs

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(read_regular(path))
            resources = data["checkpoint"]["latest"].get("resources") or [] if data["checkpoint"].get("latest") else []
        except (OSError, UnsafeFile, ValueError, KeyError, TypeError, AttributeError):
            return None
        root = next((r for r in resources if r.get("type") == STACK_TYPE), None)
        outputs = (root or {}).get("outputs") or {}
        masked: dict[str, Any] = Masker().obj({k: _masked(v) for k, v in sorted(outputs.items())})
        return masked  # credential shapes masked too
