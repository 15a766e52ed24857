"""The stacks the engine may run, behind one small interface: the only engine module that imports `stacks`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from engine.errors import StackNotFound
from engine.results import StackInfo
from engine.vocabulary import PROJECT, check_stack_syntax, echo
from stacks import registry
from stacks.config import StackConfigError
from stacks.program import program

__all__ = ["CatalogEntry", "RegistryCatalog", "StackCatalog", "StackConfigError", "check_stack", "stack_infos"]


@dataclass(frozen=True)
class CatalogEntry:
    """What the engine needs to know of a stack without running it."""

    name: str
    cloud: str
    environment: str
    description: str
    config_schema: dict[str, Any]

    @property
    def config_file(self) -> str:
        return f"Pulumi.{self.name}.yaml"

    def info(self) -> StackInfo:
        return StackInfo(
            name=self.name,
            cloud=self.cloud,
            environment=self.environment,
            description=self.description,
            config_file=self.config_file,
        )


class StackCatalog(Protocol):
    """Where stacks come from: the registry in production, a small fake in engine unit tests."""

    project: str

    def names(self) -> list[str]: ...

    def entry(self, name: str) -> CatalogEntry: ...

    def program(self) -> Callable[[], None]: ...


class RegistryCatalog:
    """The project's own stacks (`stacks.registry`) and their one inline program."""

    project = PROJECT

    def names(self) -> list[str]:
        return sorted(registry.STACKS)

    def entry(self, name: str) -> CatalogEntry:
        return _registry_entry(name)

    def program(self) -> Callable[[], None]:
        return program


def load_programs() -> None:
    """Import every registry stack's program now (the registry imports one only when it is built): a server loads
    them before it freezes what it has loaded, rather than on its first preview."""
    for spec in registry.list_stacks():
        spec.build  # noqa: B018 - resolving the build function imports its program


@cache
def _registry_entry(name: str) -> CatalogEntry:
    """A registry stack's entry, made once: its JSON schema costs milliseconds and the registry never changes while
    the process runs."""
    spec = registry.STACKS[name]
    return CatalogEntry(
        name=spec.name,
        cloud=spec.cloud,
        environment=spec.environment,
        description=spec.description,
        config_schema=spec.config_model.model_json_schema(),
    )


def check_stack(catalog: StackCatalog, name: object) -> str:
    """A stack name that is well formed and known to the catalog; anything else is refused before it is used."""
    stack = check_stack_syntax(name)
    if stack not in catalog.names():
        raise StackNotFound(
            f"unknown stack {echo(stack)}; known stacks: {', '.join(catalog.names())}", stack=stack[:100]
        )
    return stack


def stack_infos(catalog: StackCatalog) -> list[StackInfo]:
    """The catalog's stacks as results (no CLI, no state)."""
    return [catalog.entry(name).info() for name in catalog.names()]
