"""Saved previews: what was shown to a human, with the digests an apply must still match."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from engine.errors import PreviewNotFound
from engine.vocabulary import Kind, echo, is_id


class Digests(BaseModel):
    """What an apply must still match: the program source, the stack config file and the stack's state."""

    program: str
    config: str
    state: str

    def changed(self, other: Digests) -> list[str]:
        return [name for name in ("program", "config", "state") if getattr(self, name) != getattr(other, name)]


class PreviewRecord(BaseModel):
    preview_id: str
    kind: Kind = Kind.UPDATE
    stack: str
    user: str
    created_at: str
    created_epoch: float
    operation_id: str
    targets: list[str] = Field(default_factory=list)
    refresh: bool = False
    expires_epoch: int = Field(default=0, description="The preview's own expiry: after it no approval applies it.")
    digests: Digests
    plan_file: str | None = None
    plan_sha256: str | None = None
    change_summary: dict[str, int] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict, description="The PreviewResult as returned (masked).")
    property_diffs: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per resource URN: {property path: {old, new}} (masked), for review."
    )

    def binding(self) -> str:
        """The digest an approval signs: everything that decides what gets applied, and by whose request."""
        body = {
            "preview_id": self.preview_id,
            "kind": self.kind,
            "stack": self.stack,
            "requester": self.user,
            "targets": self.targets,
            "refresh": self.refresh,
            "expires_epoch": self.expires_epoch,
            "digests": self.digests.model_dump(),
            "plan_file": self.plan_file,
            "plan_sha256": self.plan_sha256,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace `path` whole. Store files are readable by others by default: approvers on other accounts review
    previews, and nothing in them is secret (they are masked)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class PreviewStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, preview_id: str) -> Path:
        if not is_id(preview_id):
            raise PreviewNotFound(f"{echo(preview_id)} is not a preview id")
        return self.root / f"{preview_id}.json"

    def plan_path(self, preview_id: str) -> Path:
        return self.root / f"{preview_id}.plan.json"

    def save(self, record: PreviewRecord) -> None:
        write_atomic(self._path(record.preview_id), record.model_dump_json(indent=2))

    def get(self, preview_id: str) -> PreviewRecord:
        try:
            return PreviewRecord.model_validate_json(self._path(preview_id).read_text())
        except FileNotFoundError:
            raise PreviewNotFound(f"no preview {preview_id!r}; run a preview first", preview_id=preview_id) from None


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".tpl", ".txt", ".json", ".toml", ".rego")


def tree_digest(root: Path, paths: tuple[str, ...]) -> str:
    """A digest of every source file in `paths` (files, or folders walked; names and contents). Bytecode is never
    part of it: it is never trusted either (engine/bytecode.py)."""
    h = hashlib.sha256()
    for name in paths:
        base = root / name
        files = sorted(base.rglob("*")) if base.is_dir() else [base] if base.is_file() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in SOURCE_SUFFIXES:
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
