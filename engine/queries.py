"""Read views: stacks, outputs, descriptions and the audit trail. Nothing here changes anything."""

from __future__ import annotations

from typing import Any

from pulumi import automation as auto

from engine.audit import OperationRecord, Page
from engine.audit.trail import AuditTrail
from engine.catalog import StackCatalog, check_stack, stack_infos
from engine.errors import OperationNotFound
from engine.masking import SECRET, Masker
from engine.operations.sessions import StackSessions
from engine.results import StackDescription, StackInfo
from engine.state_files import StateFiles
from engine.vocabulary import echo


class Queries:
    def __init__(self, catalog: StackCatalog, sessions: StackSessions, audit: AuditTrail) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self.audit = audit
        backend = sessions.settings.backend_path
        self.state_files = StateFiles(backend, catalog.project) if backend is not None else None

    def list_stacks(self) -> list[StackInfo]:
        return stack_infos(self.catalog)

    def outputs(self, stack: str) -> dict[str, Any]:
        """Current stack outputs; secret ones are shown as "[secret]". A file backend is read directly (cached by the
        state's version); other backends ask the CLI."""
        check_stack(self.catalog, stack)
        known = self.state_files.outputs(stack) if self.state_files is not None else None
        if known is not None:
            return known
        try:
            handle = self.sessions.handle(None, stack, create=False)
        except auto.StackNotFoundError:
            return {}
        masker = Masker()
        outputs = handle.outputs()
        masker.add(*(str(v.value) for v in outputs.values() if v.secret))
        return {k: SECRET if v.secret else masker.obj(v.value) for k, v in sorted(outputs.items())}

    def describe(self, stack: str) -> StackDescription:
        entry = self.catalog.entry(check_stack(self.catalog, stack))
        outputs = self.outputs(stack)
        last = self.audit.query(stack=stack, limit=1).items
        fields = {"id", "tool", "status", "user", "start_ts", "end_ts"}
        return StackDescription(
            **entry.info().model_dump(),
            config_schema=entry.config_schema,
            outputs=outputs,
            last_operation=last[0].model_dump(include=fields) if last else None,
            deployed=bool(outputs),
        )

    def history(self, stack: str, limit: int = 20, cursor: str | None = None) -> Page:
        return self.audit.query(stack=check_stack(self.catalog, stack), limit=limit, cursor=cursor)

    def get_operation(self, operation_id: str) -> OperationRecord:
        record = self.audit.get(operation_id)
        if record is None:
            raise OperationNotFound(f"no operation {echo(operation_id)}", operation_id=operation_id[:100])
        return record

    def list_operations(self, **filters: Any) -> Page:
        return self.audit.query(**filters)
