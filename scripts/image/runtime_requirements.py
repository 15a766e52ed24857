"""Print the runtime subset of requirements/lock.txt (hashes included): main.in and what it needs, nothing of dev.in.

The closure is walked offline through the metadata of the checkout's venv (installed from the same lock), and every
entry printed is the lock's own text, so the image installs exactly the pinned, hash-checked distributions.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def lock_entries(lock: Path) -> dict[str, str]:
    """name -> the entry's lines (`name==version \\` and its `--hash` lines)."""
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lock.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            name = canonicalize_name(re.split(r"[=\[ ;]", line, maxsplit=1)[0])
            current = entries.setdefault(name, [])
        if current is not None:
            current.append(line.split(" # ", 1)[0].rstrip() if not line[0].isspace() else line)
    return {name: "\n".join(lines) for name, lines in entries.items()}


def roots(main_in: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in main_in.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def closure(start: list[Requirement]) -> set[str]:
    """Every distribution the roots need on this platform, following the extras they ask for."""
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo = [(req, "") for req in start]
    while todo:
        req, from_extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": from_extra}):
            continue
        name = canonicalize_name(req.name)
        names.add(name)
        for extra in ["", *sorted(req.extras)]:
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            for dep in metadata.requires(req.name) or []:
                todo.append((Requirement(dep), extra))
    return names


def main() -> int:
    entries = lock_entries(ROOT / "requirements" / "lock.txt")
    needed = closure(roots(ROOT / "requirements" / "main.in"))
    missing = sorted(needed - entries.keys())
    if missing:
        print(f"runtime_requirements: not in requirements/lock.txt: {', '.join(missing)}", file=sys.stderr)
        return 1
    print("\n".join(entries[name] for name in sorted(needed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
