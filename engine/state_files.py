"""Reading a stack's last known state straight from a file backend, so read views need no CLI process.

Only what the state holds in the clear is used: secret values stay ciphertext and show as "[secret]". Answers are
cached by the state file's identity (inode, size, modification time), so a changed stack is read again.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

from engine.masking import SECRET, Masker
from engine.store_files import UnsafeFile, read_regular

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # noqa: S105 - Pulumi's marker of a secret in serialised state
STACK_TYPE = "pulumi:pulumi:Stack"
# The layout whose checkpoint path this reads: `.pulumi/meta.yaml` as the CLI writes it for project-scoped stacks.
# Without it (legacy layout, `.pulumi/stacks/<stack>.json`) or with anything else in it, the CLI reads another file.
PROJECT_LAYOUT = b"version: 1\n"
# What the backend keeps beside `<stack>.json` and never reads as the stack's state: its backups, retained
# checkpoints (PULUMI_DIY_BACKEND_RETAIN_CHECKPOINTS) and blob metadata. Any other `<stack>.json.*` (`.gz`, `.zst`, a
# compression the CLI learns later) may be what the CLI reads instead of the plain file.
IGNORED_BESIDE = re.compile(r"(?:(?:gz|zst)\.)?(?:bak|[0-9]+)(?:\.attrs)?|attrs")
HISTORY_FILE = re.compile(r"(?P<stack>.+)-[0-9]+\.(?P<kind>history|checkpoint)\.json(?P<attrs>\.attrs)?")


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
        self.history = backend / ".pulumi" / "history" / project
        self._cache: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def outputs(self, stack: str) -> dict[str, Any] | None:
        """The stack's outputs (secrets "[secret]"); {} for a stack with no state; None when the file can't say: the
        CLI may read another form of the checkpoint (`.gz`, `.zst`), or another layout, than this file."""
        if not self._project_layout() or not self._plain_only(stack):
            return None
        path = self.folder / f"{stack}.json"
        try:
            info = path.stat()
        except FileNotFoundError:
            return {}
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

    def deployment(self, stack: str) -> dict[str, Any] | None:
        """The stack's latest deployment as the file holds it, secret values as ciphertext (what `pulumi stack
        export` prints without --show-secrets), read without a CLI process; None when the file cannot say (no file,
        a compressed or older-format checkpoint, unreadable): then ask the CLI. The state digest of an approved apply is
        taken from this, so it is used only when the CLI reads exactly this file to exactly this: the project layout,
        no other form of the checkpoint beside it, and JSON that Go's decoder cannot read otherwise (no two keys of an
        object that differ only in case)."""
        if not self._project_layout() or not self._plain_only(stack):
            return None
        checkpoint = _checkpoint(self.folder / f"{stack}.json", strict=True)
        latest = checkpoint.get("latest") if checkpoint is not None else None
        return latest if isinstance(latest, dict) else None

    def updates(self, stack: str) -> int | None:
        """How many updates the stack's history holds (one `.history.json` file each, as `pulumi stack history`
        lists them); None without a history folder: then ask the CLI."""
        folder = self.history / stack
        if not folder.is_dir() or folder.is_symlink():
            return None
        count = 0
        for name in os.listdir(folder):
            match = HISTORY_FILE.fullmatch(name)
            if match is None or match["stack"] != stack:
                return None  # e.g. compressed history (PULUMI_DIY_BACKEND_GZIP): the CLI counts those too
            count += match["kind"] == "history" and not match["attrs"]
        return count

    def _project_layout(self) -> bool:
        try:
            return read_regular(self.folder.parent.parent / "meta.yaml") == PROJECT_LAYOUT
        except (OSError, UnsafeFile):
            return False

    def _plain_only(self, stack: str) -> bool:
        prefix = f"{stack}.json."
        try:
            names = os.listdir(self.folder)
        except OSError:
            return False
        return all(IGNORED_BESIDE.fullmatch(n[len(prefix) :]) for n in names if n.startswith(prefix))

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        checkpoint = _checkpoint(path)
        if checkpoint is None:
            return None
        latest = checkpoint.get("latest") or {}
        resources = (latest.get("resources") if isinstance(latest, dict) else None) or []
        root = next((r for r in resources if isinstance(r, dict) and r.get("type") == STACK_TYPE), None)
        outputs = (root or {}).get("outputs") or {}
        masked: dict[str, Any] = Masker().obj({k: _masked(v) for k, v in sorted(outputs.items())})
        return masked  # credential shapes masked too


CHECKPOINT_VERSION = 3  # the checkpoint format this reads; any other is left to the CLI


class _Ambiguous(ValueError):
    """Keys Go's JSON decoder may take for one another."""


def _distinct_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Go matches struct fields case-insensitively (Unicode simple folding: "Latest", and "late" + U+017F + "t", are
    # "latest") and keeps the last match: which of two such keys it uses depends on their order, which a dict loses.
    if len({key.casefold() for key, _ in pairs}) != len(pairs):
        raise _Ambiguous
    return dict(pairs)


def _checkpoint(path: Path, *, strict: bool = False) -> dict[str, Any] | None:
    try:
        data = json.loads(read_regular(path), object_pairs_hook=_distinct_keys if strict else None)
    except (OSError, UnsafeFile, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
        return None
    checkpoint = data.get("checkpoint")
    return checkpoint if isinstance(checkpoint, dict) else None
