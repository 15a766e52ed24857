"""Saved previews: what was shown to a human, with the digests an apply must still match."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from engine.errors import PreviewNotFound
from engine.policy.report import PolicyReport
from engine.store_files import ensure_dir, read_regular, write_atomic
from engine.vocabulary import Kind, echo, is_id


class Digests(BaseModel):
    """What an apply must still match: the program source, the stack config file, the stack's state and the policy
    pack that judged the preview."""

    program: str
    config: str
    state: str
    policy: str = ""

    def changed(self, other: Digests) -> list[str]:
        names = ("program", "config", "state", "policy")
        return [name for name in names if getattr(self, name) != getattr(other, name)]


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
    policy: PolicyReport | None = Field(default=None, description="The policy pack's decision on this preview.")
    audit_seq: int = Field(
        default=0, description="The audit record that started this preview: its approvals can only be used after it."
    )
    seal: str = Field(
        default="",
        description="The engine's signature of the binding with its notary key (engine/operations/provenance.py): "
        "a record nobody but the engine could have saved. Not part of the binding.",
    )

    def binding(self) -> str:
        """The digest an approval signs: the whole record but its seal. That is everything that decides what gets
        applied (kind, stack, requester, targets, refresh, expiry, digests, plan) and everything the approver was
        shown (the result, the property diffs), so neither can be changed without voiding the approvals."""
        body = self.model_dump(mode="json", exclude={"seal"})
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class PreviewStore:
    """Preview records (readable by approvers on other accounts) and their saved plans (private to the engine)."""

    def __init__(self, root: Path, plans: Path | None = None) -> None:
        self.root = root
        self.plans = plans or root.parent / "plans"

    def _path(self, preview_id: str) -> Path:
        return self.root / f"{check_preview_id(preview_id)}.json"

    def plan_path(self, preview_id: str) -> Path:
        """Where the CLI saves the plan: a folder only the engine's user can enter, so nobody swaps it."""
        return ensure_dir(self.plans, 0o700) / f"{preview_id}.plan.json"

    def save(self, record: PreviewRecord) -> None:
        ensure_dir(self.root, STORE_MODE)
        write_atomic(self._path(record.preview_id), record.model_dump_json(indent=2))

    def recent(self, limit: int = 100) -> list[PreviewRecord]:
        """The newest readable previews (anyone may drop files in the store: callers check what they show)."""
        found = []
        for path in self.root.glob("*.json") if self.root.is_dir() else []:
            if is_id(path.stem):
                try:
                    found.append(self.get(path.stem))
                except PreviewNotFound:
                    continue
        return sorted(found, key=lambda r: r.created_epoch, reverse=True)[:limit]

    def get(self, preview_id: str) -> PreviewRecord:
        try:
            data = read_regular(self._path(preview_id))
        except FileNotFoundError:
            raise not_found(preview_id) from None
        except OSError:
            raise PreviewNotFound(f"preview {preview_id!r} is unreadable", preview_id=preview_id) from None
        return parse_preview(preview_id, data)

    def plan_for(self, record: PreviewRecord) -> Path | None:
        """The saved plan the CLI applies (None when the preview saved none)."""
        return self.plans / record.plan_file if record.plan_file else None


class Previews(Protocol):
    """Where previews and their plans are kept: files under the state dir, or the shared store (engine/pgstore)."""

    plans: Path

    def plan_path(self, preview_id: str) -> Path: ...

    def save(self, record: PreviewRecord) -> None: ...

    def recent(self, limit: int = 100) -> list[PreviewRecord]: ...

    def get(self, preview_id: str) -> PreviewRecord: ...

    def plan_for(self, record: PreviewRecord) -> Path | None: ...


def check_preview_id(preview_id: str) -> str:
    if not is_id(preview_id):
        raise PreviewNotFound(f"{echo(preview_id)} is not a preview id")
    return preview_id


def not_found(preview_id: str) -> PreviewNotFound:
    return PreviewNotFound(f"no preview {preview_id!r}; run a preview first", preview_id=preview_id)


def parse_preview(preview_id: str, data: bytes | str) -> PreviewRecord:
    """The preview stored under `preview_id`: well formed, and really that preview."""
    try:
        record = PreviewRecord.model_validate_json(data)
    except ValueError:
        raise PreviewNotFound(f"preview {preview_id!r} is unreadable", preview_id=preview_id) from None
    if record.preview_id != preview_id:
        raise PreviewNotFound(f"the record of preview {preview_id!r} holds another preview", preview_id=preview_id)
    return record


def file_sha256(path: Path) -> str:
    return hashlib.sha256(read_regular(path)).hexdigest()


SOURCE_SUFFIXES = (".py", ".yaml", ".yml", ".tpl", ".txt", ".json", ".toml", ".rego", ".so", ".pyd", ".pth")


STORE_MODE = 0o1777  # anyone may add files (approvals are submitted here); only a file's owner may replace it


def tree_digest(root: Path, paths: tuple[str, ...]) -> str:
    """A digest of every source file in `paths` (files, or folders walked; names and contents). Cached bytecode is
    never part of it: it is never trusted either (engine/bytecode.py). What Python imports without a source is: a
    `name.pyc` beside the sources (a package's `__init__.pyc` even wins over a module `name.py` next to its folder),
    and the files of a linked folder (a package may be a link)."""
    h = hashlib.sha256()
    for name in paths:
        base = root / name
        files = sorted(_walk(base, frozenset())) if base.is_dir() else [base] if base.is_file() else []
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts and _runs_or_shapes(path):
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _runs_or_shapes(path: Path) -> bool:
    """A source suffix, or bytecode Python would load as module `stem` without a source (`stem.pyc` itself, not the
    `stem.cpython-311.pyc` that caches a source)."""
    return path.suffix in SOURCE_SUFFIXES or (path.suffix == ".pyc" and path.stem.isidentifier())


def _walk(folder: Path, above: frozenset[str]) -> list[Path]:
    """Everything below `folder` as an import sees it: links to folders are followed, a link back to a folder above
    is not (it would never end)."""
    inside = above | {os.path.realpath(folder)}
    found: list[Path] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found  # unreadable: nothing can be imported from it either
    for entry in entries:
        path = folder / entry.name
        found.append(path)
        if entry.is_dir() and os.path.realpath(path) not in inside:
            found += _walk(path, inside)
    return found
