"""Checks on caller input that run before anything is spawned: names, targets."""

from __future__ import annotations

import re
import unicodedata

from engine.errors import InvalidInput, StackNotFound

_STACK_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def check_stack_name(name: object) -> str:
    """A registered stack's name; anything else (path tricks, flags, look-alike unicode) is refused."""
    from stacks.registry import STACKS

    if not isinstance(name, str) or not name:
        raise InvalidInput("a stack name is required")
    if unicodedata.normalize("NFKC", name) != name or not name.isascii() or not _STACK_RE.match(name):
        raise InvalidInput(f"{name!r} is not a valid stack name (lowercase letters, digits and '-')", stack=name)
    if name not in STACKS:
        raise StackNotFound(f"unknown stack {name!r}; known stacks: {', '.join(sorted(STACKS))}", stack=name)
    return name
