"""Operations on stacks: the Engine facade and the collaborators it wires (docs/architecture.md)."""

from engine.catalog import RegistryCatalog, StackCatalog
from engine.operations.engine import Engine
from engine.operations.events import ProgressCallback
from engine.operations.preview import check_targets
from engine.results import StackInfo


def stack_infos() -> list[StackInfo]:
    """The registry's stacks as results (no CLI, no state: safe to call without an Engine)."""
    from engine.catalog import stack_infos as infos

    return infos(RegistryCatalog())


__all__ = ["Engine", "ProgressCallback", "StackCatalog", "check_targets", "stack_infos"]
