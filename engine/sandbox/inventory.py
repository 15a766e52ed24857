"""The simulated cloud's inventory: what "exists" per stack, one JSON file per resource under the sandbox dir.

A resource's generations live in a folder named by its URN's digest, a file each named by its id's digest, so
`find` reads one small folder, not the whole stack: creating N resources stays linear in N.

`up` writes it, `refresh` reads it, `destroy` empties it; tests edit it to simulate drift. Writes are atomic
(write-then-rename), so several provider processes of one stack can share it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _urn_parts(urn: str) -> tuple[str, str]:
    """(stack, project) from 'urn:pulumi:STACK::PROJECT::TYPE::NAME'."""
    head = urn.split("::")
    return head[0].removeprefix("urn:pulumi:"), head[1]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Inventory:
    def __init__(self, root: Path) -> None:
        self.root = root

    def stack_dir(self, project: str, stack: str) -> Path:
        return self.root / "inventory" / project / stack

    def _path(self, urn: str, rid: str) -> Path:
        # Keyed by URN and id: during a create-before-delete replacement both generations exist at once.
        return self._urn_folder(urn) / f"{_digest(rid)[:32]}.json"

    def _urn_folder(self, urn: str) -> Path:
        stack, project = _urn_parts(urn)
        return self.stack_dir(project, stack) / _digest(urn)[:32]

    def get(self, urn: str, rid: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(urn, rid).read_text())  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None

    def find(self, urn: str) -> list[dict[str, Any]]:
        """Every generation of the resource with this URN (usually one)."""
        found = (json.loads(p.read_text()) for p in self._urn_folder(urn).glob("*.json"))
        return sorted((r for r in found if r["urn"] == urn), key=lambda r: r["id"])

    def put(self, urn: str, rid: str, typ: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        path = self._path(urn, rid)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"urn": urn, "id": rid, "type": typ, "inputs": inputs, "outputs": outputs}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, sort_keys=True)
        os.replace(tmp, path)

    def delete(self, urn: str, rid: str) -> None:
        self._path(urn, rid).unlink(missing_ok=True)

    def list(self, project: str, stack: str) -> list[dict[str, Any]]:
        folder = self.stack_dir(project, stack)
        if not folder.is_dir():
            return []
        found = (json.loads(p.read_text()) for p in folder.glob("*/*.json"))
        return sorted(found, key=lambda r: (r["urn"], r["id"]))

    def drift(self, urn: str, **changes: Any) -> None:
        """Change a resource as if someone edited it outside Pulumi (test helper): its outputs, and the inputs a
        provider would read back from the cloud."""
        records = self.find(urn)
        if len(records) != 1:
            raise KeyError(urn)
        record = records[0]
        record["outputs"].update(changes)
        record["inputs"].update({k: v for k, v in changes.items() if k in record["inputs"]})
        self.put(urn, record["id"], record["type"], record["inputs"], record["outputs"])
