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
    digests: Digests
    plan_file: str | None = None
    plan_sha256: str | None = None
    change_summary: dict[str, int] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict, description="The PreviewResult as returned (masked).")

    def binding(self) -> str:
        """The digest an approval signs: this preview, its kind and target, the digests and the plan."""
        body = {
            "preview_id": self.preview_id,
            "kind": self.kind,
            "stack": self.stack,
            "targets": self.targets,
            "digests": self.digests.model_dump(),
            "plan_sha256": self.plan_sha256,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
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


def tree_digest(root: Path, folders: tuple[str, ...]) -> str:
    """A digest of every source file under `folders` (names and contents): changes when the program changes."""
    h = hashlib.sha256()
    for folder in folders:
        base = root / folder
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and path.suffix in (".py", ".yaml", ".yml", ".tpl", ".txt", ".json")
            ):
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
