"""The engine takes its stacks from an injected catalog: a fake one is enough for everything that needs no CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.catalog import CatalogEntry
from engine.errors import InvalidInput, StackNotFound
from engine.operations import Engine
from engine.settings import Settings


class FakeCatalog:
    project = "datamcp"

    def names(self) -> list[str]:
        return ["lab"]

    def entry(self, name: str) -> CatalogEntry:
        return CatalogEntry(name, "aws", "dev", "a lab stack", {"type": "object"})

    def program(self) -> Callable[[], None]:
        raise AssertionError("no program runs in these tests")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(Settings(project_root=tmp_path, state_dir=tmp_path / "state"), catalog=FakeCatalog())


def test_list_stacks_comes_from_the_catalog(engine: Engine) -> None:
    assert [s.name for s in engine.list_stacks()] == ["lab"]


def test_an_unknown_stack_is_refused_naming_the_catalogs_stacks(engine: Engine) -> None:
    with pytest.raises(StackNotFound, match="known stacks: lab"):
        engine.preview("aws-dev", user="alice")
    assert [(r.tool, r.status) for r in engine.list_operations().items] == [("preview", "refused")]


def test_a_malformed_stack_name_is_refused_with_a_short_echo(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as refused:
        engine.refresh("x" * 10_000, user="alice")
    assert len(refused.value.message) < 200
