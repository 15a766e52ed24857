"""Which stacks a change affects, for the preview workflow: prints a JSON list.

components/, stacks/, engine/, charts/, requirements/ and Pulumi.yaml changes affect every stack; a
`Pulumi.<stack>.yaml` change affects that stack; anything else (docs, tests, workflows) affects none.
Usage: python scripts/ci/affected_stacks.py < changed-files.txt
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ALL_PREFIXES = ("components/", "stacks/", "engine/", "charts/", "requirements/")
ALL_FILES = ("Pulumi.yaml", "pyproject.toml")
STACK_FILE = re.compile(r"^Pulumi\.([a-z][a-z0-9-]*)\.yaml$")


def affected(changed: list[str], known: list[str]) -> list[str]:
    stacks: set[str] = set()
    for path in changed:
        if path.startswith(ALL_PREFIXES) or path in ALL_FILES:
            return sorted(known)
        match = STACK_FILE.match(path)
        if match and match.group(1) in known:
            stacks.add(match.group(1))
    return sorted(stacks)


def known_stacks(root: Path) -> list[str]:
    """The stacks with a config file (no imports: this runs before any dependency is installed)."""
    return sorted(m.group(1) for p in root.glob("Pulumi.*.yaml") if (m := STACK_FILE.match(p.name)))


def main() -> None:
    changed = [line.strip() for line in sys.stdin if line.strip()]
    print(json.dumps(affected(changed, known_stacks(Path(__file__).resolve().parents[2]))))


if __name__ == "__main__":
    main()
