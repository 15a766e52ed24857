"""The layers of docs/architecture.md, checked on the imports: nothing imports upward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ("engine.cli", "engine.mcpserver", "engine.console", "mcp_server")


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def starts(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("folder", ["components", "stacks"])
def test_components_and_stacks_never_import_the_engine_or_adapters(folder: str) -> None:
    offenders = {
        module_of(p): sorted(m for m in imports(p) if starts(m, ("engine", "mcp_server"))) for p in sources(folder)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_components_never_import_stacks() -> None:
    offenders = {module_of(p): sorted(m for m in imports(p) if starts(m, ("stacks",))) for p in sources("components")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_engine_core_never_imports_an_adapter() -> None:
    core = [p for p in sources("engine") if not starts(module_of(p), ADAPTERS)]
    offenders = {module_of(p): sorted(m for m in imports(p) if starts(m, ADAPTERS)) for p in core}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_catalog_reaches_into_stacks() -> None:
    users = {module_of(p) for p in sources("engine") if any(starts(m, ("stacks",)) for m in imports(p))}
    assert users == {"engine.catalog"}


def test_only_the_engine_core_drives_the_automation_api() -> None:
    adapters = [p for p in [*sources("engine"), ROOT / "mcp_server.py"] if starts(module_of(p), ADAPTERS)]
    offenders = [module_of(p) for p in adapters if any(m.startswith("pulumi.automation") for m in imports(p))]
    assert offenders == []
