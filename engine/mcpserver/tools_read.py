"""The viewer's tools, resources and prompt: look at stacks, previews, drift and the audit trail; nothing changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastmcp import Context, FastMCP
from fastmcp.exceptions import PromptError, ResourceError, ToolError
from mcp.types import ToolAnnotations

from engine.mcpserver.arguments import (
    Cursor,
    Offset,
    OpFilter,
    PageSize,
    ResourceType,
    Stack,
    Targets,
    UrnPrefix,
    UserFilter,
)
from engine.mcpserver.limits import CLIENT_ERROR
from engine.mcpserver.presenting import bounded_preview, operation_detail, operation_item, synth_page
from engine.mcpserver.preview_pages import ChangeFilter, change_detail, policy_findings, preview_page
from engine.mcpserver.runtime import ToolRuntime
from engine.synth import synth
from engine.vocabulary import Id, Status, Tool, UrnText, echo, is_id

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
LOOKS_OUTSIDE = ToolAnnotations(read_only_hint=True, idempotent_hint=False, open_world_hint=True)


class ReadTools:
    """Bound methods registered as tools; each body is the engine call it stands for."""

    def __init__(self, runtime: ToolRuntime) -> None:
        self.rt = runtime
        self.engine = runtime.engine

    def list_stacks(self) -> list[dict[str, Any]]:
        """List the stacks DataMCP manages (name, cloud, environment, description). Start here."""
        return [s.model_dump() for s in self.engine.list_stacks()]

    async def describe_stack(self, stack: Stack) -> dict[str, Any]:
        """Describe a stack: its config schema, current outputs (secrets shown as [secret]), whether it is deployed
        and its last operation."""
        return (await self.rt.state_read(lambda: self.engine.describe(stack))).model_dump()

    async def get_outputs(self, stack: Stack) -> dict[str, Any]:
        """The stack's current outputs; secret outputs are shown as [secret]."""
        return await self.rt.state_read(lambda: self.engine.outputs(stack))

    async def synth(
        self, stack: Stack, offset: Offset = 0, limit: PageSize = 50, include_inputs: bool = False
    ) -> dict[str, Any]:
        """The stack's full resource graph computed offline (no cloud, no credentials): counts by type, stack outputs
        and a page of resources (use offset/limit for the rest). Use it when no preview is possible."""
        result = await self.rt.cli_read(lambda: synth(stack, self.rt.settings.project_root))
        return synth_page(result, offset, limit, include_inputs)

    async def preview(
        self, stack: Stack, ctx: Context, targets: Targets = None, refresh: bool = False
    ) -> dict[str, Any]:
        """Preview the changes to a stack (nothing is changed). Returns the change summary, changed resources (as
        many as fit: get_preview pages through all of them), diagnostics, policy violations, a one-paragraph
        `summary` to show the person, and a `preview_id`; to apply it, follow the summary's next step. Sends
        progress notifications while it runs."""
        result = await self.rt.operation(
            lambda call: self.engine.preview(
                stack, user=call.user, targets=targets, refresh=refresh, on_progress=call.progress, operation_id=call.id
            ),
            ctx,
        )
        return bounded_preview(result, can_request=self.rt.can_request())

    async def check_drift(self, stack: Stack) -> dict[str, Any]:
        """Compare the stack's state with what exists (nothing is changed): the drifted resources and what differs."""
        result = await self.rt.operation(
            lambda call: self.engine.refresh(stack, user=call.user, preview_only=True, operation_id=call.id)
        )
        return result.model_dump()

    async def get_operation(
        self, operation_id: Id, refs_offset: Offset = 0, full_output: bool = False
    ) -> dict[str, Any]:
        """One operation from the audit trail: who, what, when, status, the tail of its masked output (all of it with
        full_output) and a page of the resources it touched (pass next_refs_offset back for more). For a preview:
        `rejection` says who rejected it and why, if a person did."""
        record = await self.rt.run(lambda: self.engine.get_operation(operation_id))
        detail = operation_detail(record, refs_offset, full_output)
        if record.preview_id and record.tool in (Tool.PREVIEW, Tool.PREVIEW_DESTROY):
            preview_id = record.preview_id
            detail["rejection"] = await self.rt.run(lambda: self.engine.rejection(preview_id))
        return detail

    async def list_operations(
        self,
        stack: Stack | None = None,
        user: UserFilter = None,
        status: Status | None = None,
        limit: PageSize = 20,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        """The audit trail, newest first, filtered by stack, user or status; pass next_cursor back for more."""
        page = await self.rt.run(
            lambda: self.engine.list_operations(stack=stack, user=user, status=status, limit=limit, cursor=cursor)
        )
        return {
            "items": [operation_item(r) for r in page.items],
            "next_cursor": page.next_cursor,
        }

    async def get_preview(
        self,
        preview_id: Id,
        op: OpFilter = None,
        type: ResourceType | None = None,
        urn_prefix: UrnPrefix | None = None,
        offset: Offset = 0,
        limit: PageSize = 50,
    ) -> dict[str, Any]:
        """A saved preview's changes in pages, filtered by op (e.g. delete, replace), exact resource type and URN
        prefix; the first page (offset 0) also gives its summary, change counts, approvals so far, diagnostics and
        policy decision. `total` counts the matching changes; pass `next_offset` back as offset for the next page
        (null: no more). Start with op=delete and op=replace to find the risky changes; get_change shows one
        change's property diff."""
        where = ChangeFilter(op=op, type=type, urn_prefix=urn_prefix)
        can_request = self.rt.can_request()
        return await self.rt.run(
            lambda: preview_page(self.engine.review(preview_id), where, offset, limit, can_request)
        )

    async def get_change(self, preview_id: Id, urn: UrnText, offset: Offset = 0) -> dict[str, Any]:
        """One resource's change in a saved preview: its op, why it is replaced, the policy findings on it and its
        property diff (old -> new, secrets masked). A long diff is cut where 16 KB are reached (`cut` says so);
        pass `next_offset` back as offset for the rest."""
        return await self.rt.run(lambda: change_detail(self.engine.previews.get(preview_id), urn, offset))

    async def preview_resource(self, preview_id: str) -> str:
        """A saved preview: its summary, counts, approvals, policy decision and first page of changes."""
        can_request = self.rt.can_request()
        return await self.read(lambda: preview_page(self.engine.review(preview_id), ChangeFilter(), 0, 50, can_request))

    async def preview_policy(self, preview_id: str) -> str:
        """The policy pack's decision on a saved preview and its findings grouped by rule."""
        return await self.read(lambda: policy_findings(self.engine.previews.get(preview_id)))

    async def read(self, fn: Callable[[], dict[str, Any]]) -> str:
        """A resource read: the caller must have a role; the engine's refusals are resource errors."""
        try:
            self.rt.caller()
            return json.dumps(await self.rt.run(fn), default=str)
        except ToolError as exc:
            raise ResourceError(str(exc), log_level=exc.log_level) from None

    async def stack_outputs(self, name: str) -> str:
        """A stack's current outputs (secrets masked)."""
        return json.dumps(await self.rt.state_read(lambda: self.engine.outputs(name)), sort_keys=True)

    async def operation_resource(self, operation_id: str) -> str:
        """One operation's audit record."""
        self.rt.caller()
        record = await self.rt.run(lambda: self.engine.get_operation(operation_id))
        return json.dumps(operation_detail(record, 0, False), default=str)


def review_preview(preview_id: str) -> str:
    """Help explain a preview to a person before they approve it."""
    if not is_id(preview_id):
        raise PromptError(f"{echo(preview_id)} is not a preview id", log_level=CLIENT_ERROR)
    return (
        f"Explain preview {preview_id} to the person who must approve it. 1) get_preview(preview_id) gives the "
        "summary: say in one sentence what will change. 2) List every delete, then every replacement, first: "
        "get_preview with op='delete', then op='replace' (follow next_offset); for each one that matters, "
        "get_change(preview_id, urn) says why (replace_keys, the property diff). 3) Read "
        f"preview://{preview_id}/policy: say what the policy pack denies, requires or warns about; add diagnostics. "
        "4) Say what could go wrong. 5) Tell them how to review and approve it (the console, or `datamcp show` and "
        "`datamcp approve` with the preview id). Never claim the change is applied before the audit trail shows it."
    )


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """The viewer's tools (every role has them), the stack, operation and preview resources and the review
    prompt."""
    tools = ReadTools(runtime)
    for fn, hints in (
        (tools.list_stacks, READ_ONLY),
        (tools.describe_stack, READ_ONLY),
        (tools.get_outputs, READ_ONLY),
        (tools.synth, READ_ONLY),
        (tools.preview, LOOKS_OUTSIDE),
        (tools.check_drift, LOOKS_OUTSIDE),
        (tools.get_operation, READ_ONLY),
        (tools.list_operations, READ_ONLY),
        (tools.get_preview, READ_ONLY),
        (tools.get_change, READ_ONLY),
    ):
        runtime.add_tool(mcp, fn, hints, "viewer")
    mcp.resource("stack://{name}/outputs", mime_type="application/json")(tools.stack_outputs)
    mcp.resource("ops://{operation_id}", mime_type="application/json")(tools.operation_resource)
    mcp.resource("preview://{preview_id}", mime_type="application/json")(tools.preview_resource)
    mcp.resource("preview://{preview_id}/policy", mime_type="application/json")(tools.preview_policy)
    mcp.prompt(review_preview)
