"""DataMCP's MCP server: the engine for AI agents, a thin FastMCP adapter (docs/mcp.md).

An agent can look (stacks, outputs, synth, previews, drift, operations) and ask (request_apply); it can never apply a
change on its own: `apply` runs only a preview that another principal approved, and there is no approve tool.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastmcp import Context, FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.server.auth import AccessToken, TokenVerifier
from fastmcp.server.dependencies import get_access_token
from fastmcp.utilities.authorization import AuthContext
from mcp.types import ToolAnnotations
from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from engine import Settings, __version__, load_settings
from engine.access import ROLES, Principal, RateLimiter, Role, load_tokens, load_tokens_file, token_digest
from engine.doctor import run_checks
from engine.errors import DataMcpError, SettingsError
from engine.operations import Engine
from engine.results import ProgressEvent

INSTRUCTIONS = (
    "DataMCP previews infrastructure changes through Pulumi. You can list and describe stacks, synth their resource "
    "graph offline, preview changes, check drift and read the audit trail. You cannot apply a change yourself: after "
    "a preview, call request_apply and show the person the approval command it returns; once another person has "
    "approved, apply(preview_id) runs exactly that preview."
)
MAX_CHANGES = 100
T = TypeVar("T")

StackName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="A stack name from list_stacks, e.g. aws-dev.",
    ),
]
Id = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Urn = Annotated[str, Field(min_length=10, max_length=1024)]


class _Progress:
    """Engine progress (from a worker thread) to MCP progress notifications (sent from the request's own task)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[ProgressEvent] = asyncio.Queue()

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind in ("resource_started", "resource_finished"):
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    async def _send(self, event: ProgressEvent) -> None:
        message = f"{event.op} {(event.urn or '').rsplit('::', 1)[-1]}"
        with contextlib.suppress(Exception):
            await self.ctx.report_progress(progress=event.done, total=event.total, message=message)

    async def pump(self) -> None:
        while True:
            await self._send(await self.queue.get())

    async def drain(self) -> None:
        while not self.queue.empty():
            await self._send(self.queue.get_nowait())


class HashedTokenVerifier(TokenVerifier):
    """Static bearer tokens for the embedded default, compared by sha256 digest (files hold no plain tokens)."""

    def __init__(self, table: dict[str, Principal], roles_claim: str) -> None:
        super().__init__()
        self.table = table
        self.roles_claim = roles_claim

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.table.get(token_digest(token))
        if principal is None:
            return None
        return AccessToken(
            token=token,
            client_id=principal.name,
            scopes=list(principal.roles),
            claims={"sub": principal.name, self.roles_claim: list(principal.roles)},
        )


def _auth_provider(settings: Settings) -> TokenVerifier:
    """JWT (issuer, audience, JWKS) when configured, else static tokens; with neither, HTTP refuses to start."""
    if settings.mcp_jwt_jwks_uri:
        from fastmcp.server.auth.providers.jwt import JWTVerifier

        if not settings.mcp_jwt_issuer or not settings.mcp_jwt_audience:
            raise SettingsError("DATAMCP_MCP_JWT_JWKS_URI needs DATAMCP_MCP_JWT_ISSUER and DATAMCP_MCP_JWT_AUDIENCE")
        return JWTVerifier(
            jwks_uri=settings.mcp_jwt_jwks_uri, issuer=settings.mcp_jwt_issuer, audience=settings.mcp_jwt_audience
        )
    table: dict[str, Principal] = {}
    if settings.mcp_tokens_file is not None:
        table.update(load_tokens_file(settings.mcp_tokens_file))
    if settings.mcp_tokens is not None:
        table.update(load_tokens(settings.mcp_tokens.get_secret_value(), "DATAMCP_MCP_TOKENS"))
    if not table:
        raise SettingsError(
            "HTTP needs bearer tokens: set DATAMCP_MCP_TOKENS_FILE or DATAMCP_MCP_TOKENS (or JWT settings)"
        )
    return HashedTokenVerifier(table, settings.mcp_jwt_roles_claim)


def principal_from_token(token: AccessToken | None, settings: Settings, transport: str) -> Principal | None:
    """The caller: from the bearer token over HTTP, the local OS user over stdio (and the in-memory transport)."""
    if token is not None:
        claims = token.claims or {}
        roles = claims.get(settings.mcp_jwt_roles_claim) or []  # only our claim grants roles
        if isinstance(roles, str):
            roles = roles.split()
        known = [r for r in roles if r in ROLES]
        name = str(claims.get("sub") or token.client_id)
        return Principal(name=name, roles=known) if known else None
    if transport == "http":
        return None
    return Principal(name=settings.default_user, roles=settings.mcp_stdio_roles)


def create_server(
    settings: Settings | None = None,
    *,
    transport: Literal["stdio", "http"] = "stdio",
    engine: Engine | None = None,
) -> FastMCP:
    """Build the server: tools registered per the settings (read-only mode, destroy), bound to one engine."""
    settings = settings or load_settings()
    for role in settings.mcp_stdio_roles:
        if role not in ROLES:
            raise SettingsError(f"DATAMCP_MCP_STDIO_ROLES: unknown role {role!r}; roles are {', '.join(ROLES)}")
    auth = _auth_provider(settings) if transport == "http" else None
    eng = engine or Engine(settings)
    limiter = RateLimiter(settings.mcp_rate_limit_per_minute)
    mcp = FastMCP("datamcp", instructions=INSTRUCTIONS, version=__version__, auth=auth, mask_error_details=True)

    def caller() -> Principal:
        principal = principal_from_token(get_access_token(), settings, transport)
        if principal is None:
            raise ToolError("no valid credentials with a known role")
        return principal

    def needs(role: Role) -> Callable[[AuthContext], bool]:
        def check(ctx: AuthContext) -> bool:
            principal = principal_from_token(ctx.token, settings, transport)
            return principal is not None and principal.has(role)

        return check

    def limited(principal: Principal) -> None:
        if not limiter.allow(principal.name):
            raise ToolError(
                f"rate limit: at most {settings.mcp_rate_limit_per_minute} previews/applies a minute "
                f"for {principal.name}; wait and retry"
            )

    async def call(fn: Callable[[], T], reporter: _Progress | None = None, operation_id: str | None = None) -> T:
        """Run a blocking engine call in a thread; a cancelled request cancels the engine operation too."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, fn)
        pump = asyncio.create_task(reporter.pump()) if reporter is not None else None  # keeps the request context
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if operation_id is not None:
                eng.request_cancel(operation_id)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(future), timeout=300)
            raise
        except DataMcpError as exc:
            raise ToolError(f"{exc.code}: {exc.message}") from None
        finally:
            if pump is not None:
                await reporter.drain()  # type: ignore[union-attr]
                pump.cancel()

    def progress(ctx: Context | None) -> _Progress | None:
        return _Progress(ctx) if ctx is not None else None

    def bounded_preview(preview: Any) -> dict[str, Any]:
        data: dict[str, Any] = preview.model_dump()
        data["changes_total"] = len(data["changes"])
        data["changes"] = data["changes"][:MAX_CHANGES]
        counts = ", ".join(f"{n} to {op}" for op, n in sorted(preview.change_summary.items()) if op != "same" and n)
        risky = [c.urn.rsplit("::", 1)[-1] for c in preview.changes if c.op in ("delete", "replace")]
        data["summary"] = (
            f"Preview {preview.preview_id} of {preview.stack}: {counts or 'no changes'}."
            + (f" It deletes or replaces {len(risky)} resource(s): {', '.join(risky[:10])}." if risky else "")
            + (f" {len(preview.diagnostics)} diagnostic(s)." if preview.diagnostics else "")
            + (" To apply it, call request_apply and ask a person to approve." if preview.has_changes else "")
        )
        return data

    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    @mcp.tool(annotations=read_only, auth=needs("viewer"))
    def list_stacks() -> list[dict[str, Any]]:
        """List the stacks DataMCP manages (name, cloud, environment, description). Start here."""
        return [s.model_dump() for s in eng.list_stacks()]

    @mcp.tool(annotations=read_only, auth=needs("viewer"))
    async def describe_stack(stack: StackName) -> dict[str, Any]:
        """Describe a stack: its config schema, current outputs (secrets shown as [secret]), whether it is deployed
        and its last operation."""
        return (await call(lambda: eng.describe(stack))).model_dump()

    @mcp.tool(annotations=read_only, auth=needs("viewer"))
    async def get_outputs(stack: StackName) -> dict[str, Any]:
        """The stack's current outputs; secret outputs are shown as [secret]."""
        outputs: dict[str, Any] = await call(lambda: eng.outputs(stack))
        return outputs

    @mcp.tool(annotations=read_only, auth=needs("viewer"))
    async def synth(
        stack: StackName,
        offset: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=100)] = 50,
        include_inputs: bool = False,
    ) -> dict[str, Any]:
        """The stack's full resource graph computed offline (no cloud, no credentials): counts by type, stack outputs
        and a page of resources (use offset/limit for the rest). Use it when no preview is possible."""
        from engine.synth import synth as run_synth

        result = await call(lambda: run_synth(stack, settings.project_root))
        page = result.resources[offset : offset + limit]
        fields = None if include_inputs else {"urn", "type", "name", "parent", "custom", "protect"}
        return {
            "stack": stack,
            "resource_count": result.resource_count,
            "custom_resource_count": result.custom_resource_count,
            "counts_by_type": result.counts_by_type,
            "outputs": result.outputs,
            "offset": offset,
            "next_offset": offset + limit if offset + limit < len(result.resources) else None,
            "resources": [r.model_dump(include=fields) for r in page],
        }

    @mcp.tool(
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=False, open_world_hint=True),
        auth=needs("viewer"),
    )
    async def preview(
        stack: StackName,
        ctx: Context,
        targets: Annotated[list[Urn] | None, Field(max_length=50)] = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """Preview the changes to a stack (nothing is changed). Returns the change summary, changed resources,
        diagnostics, policy violations, a one-paragraph `summary` to show the person, and a `preview_id`; to apply
        it, call request_apply. Sends progress notifications while it runs."""
        principal = caller()
        limited(principal)
        op_id = str(uuid.uuid4())
        report = progress(ctx)
        result = await call(
            lambda: eng.preview(
                stack, user=principal.name, targets=targets, refresh=refresh, on_progress=report, operation_id=op_id
            ),
            report,
            op_id,
        )
        return bounded_preview(result)

    @mcp.tool(
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=False, open_world_hint=True),
        auth=needs("viewer"),
    )
    async def check_drift(stack: StackName, ctx: Context) -> dict[str, Any]:
        """Compare the stack's state with what exists (nothing is changed): the drifted resources and what differs."""
        principal = caller()
        op_id = str(uuid.uuid4())
        result = await call(
            lambda: eng.refresh(stack, user=principal.name, preview_only=True, operation_id=op_id), None, op_id
        )
        return result.model_dump()

    @mcp.tool(annotations=read_only, auth=needs("viewer"))
    async def get_operation(operation_id: Id) -> dict[str, Any]:
        """One operation from the audit trail: who, what, when, status, masked output, resources touched."""
        return (await call(lambda: eng.get_operation(operation_id))).model_dump()

    @mcp.tool(annotations=read_only, auth=needs("viewer"))
    async def list_operations(
        stack: StackName | None = None,
        user: Annotated[str | None, Field(max_length=128)] = None,
        status: Literal["started", "succeeded", "failed", "cancelled", "interrupted", "refused"] | None = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Field(max_length=4096)] = None,
    ) -> dict[str, Any]:
        """The audit trail, newest first, filtered by stack, user or status; pass next_cursor back for more."""
        page = await call(
            lambda: eng.list_operations(stack=stack, user=user, status=status, limit=limit, cursor=cursor)
        )
        return {
            "items": [r.model_dump(exclude={"stdout", "stderr"}) for r in page.items],
            "next_cursor": page.next_cursor,
        }

    if not settings.mcp_read_only:

        @mcp.tool(
            annotations=ToolAnnotations(
                read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
            ),
            auth=needs("operator"),
        )
        async def request_apply(
            preview_id: Id, reason: Annotated[str, Field(min_length=3, max_length=2000)]
        ) -> dict[str, Any]:
            """Ask a person to approve a preview so it can be applied. Records the request and returns the exact
            commands the person runs (or the CI route). Show them to the person; you cannot approve yourself."""
            principal = caller()
            return await call(lambda: eng.request_apply(preview_id, user=principal.name, reason=reason))

        @mcp.tool(
            annotations=ToolAnnotations(
                read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
            ),
            auth=needs("operator"),
        )
        async def apply(preview_id: Id, ctx: Context) -> dict[str, Any]:
            """Apply a preview that another person approved: exactly the reviewed changes, or a refusal that says why
            (no approval yet, the preview is stale, the stack is busy)."""
            principal = caller()
            limited(principal)
            op_id = str(uuid.uuid4())
            report = progress(ctx)
            result = await call(
                lambda: eng.apply_preview(preview_id, user=principal.name, on_progress=report, operation_id=op_id),
                report,
                op_id,
            )
            data = result.model_dump()
            data["changes"] = data["changes"][:MAX_CHANGES]
            return data

        @mcp.tool(
            annotations=ToolAnnotations(
                read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
            ),
            auth=needs("operator"),
        )
        async def cancel_operation(operation_id: Id) -> dict[str, Any]:
            """Stop a running operation gracefully (your own; admins may stop any)."""
            principal = caller()
            record = await call(lambda: eng.cancel(operation_id, user=principal.name, admin=principal.has("admin")))
            return {"operation_id": record.id, "status": "cancelling"}

        if settings.mcp_enable_destroy:

            @mcp.tool(
                annotations=ToolAnnotations(
                    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
                ),
                auth=needs("admin"),
            )
            async def destroy(stack: StackName, ctx: Context, preview_id: Id | None = None) -> dict[str, Any]:
                """Destroy a stack, in two steps like every change: without preview_id it returns a destroy preview
                (nothing changes); with the preview_id of an approved destroy preview it destroys. Protected
                resources stay."""
                principal = caller()
                limited(principal)
                op_id = str(uuid.uuid4())
                if preview_id is None:
                    result = await call(
                        lambda: eng.destroy(stack, user=principal.name, operation_id=op_id), None, op_id
                    )
                    return result.model_dump()
                result = await call(
                    lambda: eng.apply_preview(preview_id, user=principal.name, kind="destroy", operation_id=op_id),
                    None,
                    op_id,
                )
                return result.model_dump()

    @mcp.resource("stack://{name}/outputs", mime_type="application/json")
    async def stack_outputs(name: str) -> str:
        """A stack's current outputs (secrets masked)."""
        caller()
        return json.dumps(await call(lambda: eng.outputs(name)), sort_keys=True)

    @mcp.resource("ops://{operation_id}", mime_type="application/json")
    async def operation_resource(operation_id: str) -> str:
        """One operation's audit record."""
        caller()
        return (await call(lambda: eng.get_operation(operation_id))).model_dump_json()

    @mcp.prompt
    def review_preview(preview_id: str) -> str:
        """Help explain a preview to a person before they approve it."""
        return (
            f"Explain preview {preview_id} to the person who must approve it. Fetch it with the preview's result "
            "(or run preview again), then: 1) say in one sentence what will change, 2) list every delete and "
            "replacement first and why it happens (replace_keys), 3) mention diagnostics and policy violations, "
            "4) say what could go wrong, and 5) give them the approval command from request_apply. Never claim "
            "the change is applied until apply returns applied=true."
        )

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    @mcp.tool(annotations=read_only, auth=needs("viewer"))
    def check_toolchain() -> dict[str, Any]:
        """Whether the pieces DataMCP needs (pulumi CLI, helm, Python packages, state backend, audit store) are
        present. Use it when another tool fails with a toolchain error."""
        report = run_checks(settings)
        return {"ok": report.ok, "checks": [c.model_dump() for c in report.checks]}

    return mcp


def http_app(settings: Settings, engine: Engine | None = None) -> Any:
    """The streamable-HTTP ASGI app (at /mcp) with a request-size limit in front."""
    return _SizeLimited(
        create_server(settings, transport="http", engine=engine).http_app(path="/mcp"), settings.mcp_max_request_bytes
    )


class _SizeLimited:
    """Refuses requests whose declared body is larger than `limit` (413) before they reach the server."""

    def __init__(self, inner: Any, limit: int) -> None:
        self.inner = inner
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = dict(scope.get("headers") or []).get(b"content-length")
            if size is not None and int(size) > self.limit:
                await JSONResponse({"error": f"request larger than {self.limit} bytes"}, status_code=413)(
                    scope, receive, send
                )
                return
        await self.inner(scope, receive, send)


def dev_tokens(settings: Settings) -> dict[str, str]:
    """For the embedded default: make (once) an operator and an approver token for the local machine, store only
    their digests, and return the plain tokens to show."""
    assert settings.state_dir is not None
    path = settings.state_dir / "mcp-dev-tokens.json"
    plain_path = settings.state_dir / "mcp-dev-tokens.plain.json"
    if plain_path.exists():
        return json.loads(plain_path.read_text())  # type: ignore[no-any-return]
    user = settings.default_user
    tokens = {f"{user}-agent": secrets.token_urlsafe(24), f"{user}-viewer": secrets.token_urlsafe(24)}
    table = {
        f"sha256:{token_digest(tokens[f'{user}-agent'])}": {"principal": f"{user}-agent", "roles": ["operator"]},
        f"sha256:{token_digest(tokens[f'{user}-viewer'])}": {"principal": f"{user}-viewer", "roles": ["viewer"]},
    }
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=2))
    plain_path.write_text(json.dumps(tokens))
    plain_path.chmod(0o600)
    return tokens


def connection_help(settings: Settings, tokens: dict[str, str] | None, python: str) -> str:
    stdio = {
        "mcpServers": {
            "datamcp": {
                "command": str(Path(python).with_name("datamcp-mcp")),
                "args": [],
                "env": {"DATAMCP_PROJECT_ROOT": str(settings.project_root)},
            }
        }
    }
    lines = [
        "Connect an MCP client:",
        "",
        "stdio (Claude Desktop, Cursor, ... mcpServers config):",
        json.dumps(stdio, indent=2),
    ]
    if tokens:
        agent = next(iter(tokens.values()))
        http = {
            "mcpServers": {
                "datamcp": {
                    "url": f"http://{settings.mcp_host}:{settings.mcp_port}/mcp",
                    "headers": {"Authorization": f"Bearer {agent}"},
                }
            }
        }
        lines += [
            "",
            "streamable HTTP (this server):",
            json.dumps(http, indent=2),
            "",
            'Then ask: "preview the aws-dev stack". Approve what it proposes with '
            "`datamcp approve <preview_id> --approver <you>`.",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="datamcp-mcp", description="DataMCP's MCP server")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--read-only", action="store_true", help="register only the viewer tools")
    parser.add_argument("--dev-tokens", action="store_true", help="HTTP with generated local tokens (embedded)")
    args = parser.parse_args(argv)
    try:
        overrides: dict[str, Any] = {}
        if args.host:
            overrides["mcp_host"] = args.host
        if args.port:
            overrides["mcp_port"] = args.port
        if args.read_only:
            overrides["mcp_read_only"] = True
        settings = load_settings(**overrides)
        if args.transport == "stdio":
            create_server(settings).run(transport="stdio", show_banner=False)
            return
        tokens = None
        if args.dev_tokens:
            tokens = dev_tokens(settings)
            assert settings.state_dir is not None
            settings = settings.model_copy(update={"mcp_tokens_file": settings.state_dir / "mcp-dev-tokens.json"})
        print(connection_help(settings, tokens, sys.executable), flush=True)
        import uvicorn

        uvicorn.run(http_app(settings), host=settings.mcp_host, port=settings.mcp_port, log_level="warning")
    except DataMcpError as exc:
        print(f"datamcp-mcp: {exc.message}", file=sys.stderr)
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
