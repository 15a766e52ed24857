"""`datamcp`: the operator's command line, a thin adapter over the engine (parsing, presentation, exit codes)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from engine import __version__
from engine.doctor import run_checks
from engine.errors import (
    ApprovalInvalid,
    ApprovalRequired,
    DataMcpError,
    InvalidInput,
    OperationCancelled,
    PendingOperations,
    StackBusy,
    StalePreview,
)
from engine.results import ProgressEvent
from engine.settings import Settings, load_settings

# Exit codes (docs/cli.md): stable, so scripts and CI can branch on them.
EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed, or a check failed
EXIT_USAGE = 2  # argparse's own code for bad command-line syntax
EXIT_INVALID = 3  # bad input or settings: nothing was run
EXIT_REFUSED = 4  # refused by a safety rule (approval, stale preview): nothing was changed
EXIT_BUSY = 5  # the stack is locked by another operation
EXIT_CANCELLED = 6  # the operation was cancelled
EXIT_DRIFT = 7  # refresh --preview-only found drift (for scheduled checks)


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def _engine(settings: Settings) -> Any:
    from engine.operations import Engine

    return Engine(settings)


class _ProgressBar:
    """A one-line progress bar on stderr for terminals; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, event: ProgressEvent) -> None:
        if not self.enabled or event.kind not in ("resource_started", "resource_finished"):
            return
        total = event.total or 0
        width = 30
        filled = int(width * event.done / total) if total else 0
        bar = "#" * filled + "." * (width - filled)
        label = f"{event.op or ''} {(event.urn or '').rsplit('::', 1)[-1]}"[:50]
        counts = f"{event.done}/{total}" if total else str(event.done)
        sys.stderr.write(f"\r[{bar}] {counts:>9} {label:<50}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    report = run_checks(settings)
    if args.json:
        _print({"ok": report.ok, "checks": [c.model_dump() for c in report.checks]})
    else:
        width = max(len(c.name) for c in report.checks)
        for c in report.checks:
            mark = "ok" if c.ok else ("MISSING" if c.required else "absent")
            print(f"{c.name:<{width}}  {mark:<7}  {c.detail}")
        print("doctor: all required pieces present" if report.ok else "doctor: required pieces are missing")
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_stacks(args: argparse.Namespace, settings: Settings) -> int:
    from engine.operations import stack_infos

    infos = stack_infos()
    if args.json:
        _print([s.model_dump() for s in infos])
    else:
        for s in infos:
            print(f"{s.name:<10} {s.cloud:<4} {s.environment:<5} {s.description}")
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace, settings: Settings) -> int:
    from engine.render import synth_json, synth_markdown, synth_tree
    from engine.synth import synth

    result = synth(args.stack, settings.project_root, isolated=False)  # one-shot process: no worker needed
    render = {"json": synth_json, "markdown": synth_markdown, "tree": synth_tree}[args.format]
    print(render(result))
    return EXIT_OK


def _cmd_describe(args: argparse.Namespace, settings: Settings) -> int:
    d = _engine(settings).describe(args.stack)
    if args.json:
        _print(d.model_dump())
    else:
        print(
            f"{d.name}: {d.cloud} {d.environment} - {d.description}\nconfig: {d.config_file}\n"
            f"deployed: {'yes' if d.deployed else 'no'}"
        )
        for k, v in d.outputs.items():
            print(f"  {k}: {v if isinstance(v, str) else json.dumps(v)}")
        if d.last_operation:
            lo = d.last_operation
            print(f"last operation: {lo['tool']} {lo['status']} by {lo['user']} at {lo['start_ts']} ({lo['id']})")
    return EXIT_OK


def _cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
    from engine.render import preview_markdown, preview_text

    bar = _ProgressBar(args.format == "text")
    try:
        preview = _engine(settings).preview(
            args.stack, user=args.user, targets=args.target, refresh=args.refresh, on_progress=bar
        )
    finally:
        bar.close()
    if args.format == "json":
        _print(preview.model_dump())
    elif args.format == "markdown":
        print(preview_markdown(preview))
    else:
        print(preview_text(preview))
    return EXIT_OK


def _cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    approval = _engine(settings).approve(args.preview_id, approver=args.approver)
    if args.json:
        _print(approval.model_dump(exclude={"signature"}))
    else:
        print(
            f"approved preview {approval.preview_id} of {approval.stack} as {approval.approver}\n"
            f"approval id: {approval.approval_id} (single use)"
        )
    return EXIT_OK


def _apply(args: argparse.Namespace, fn: Callable[..., Any]) -> int:
    from engine.render import preview_text

    bar = _ProgressBar(not args.json)
    try:
        result = fn(on_progress=bar)
    finally:
        bar.close()
    if args.json:
        _print(result.model_dump())
    elif not result.applied and result.preview is not None:
        print(preview_text(result.preview))
        print(result.message)
    else:
        counts = ", ".join(f"{n} {op}" for op, n in sorted(result.change_summary.items()))
        print(f"{result.message}: {counts}")
        for k, v in result.outputs.items():
            print(f"  {k}: {v if isinstance(v, str) else json.dumps(v)}")
    return EXIT_OK


def _cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    return _apply(
        args,
        lambda on_progress: engine.up(
            args.stack,
            user=args.user,
            preview_id=args.preview_id,
            approval_id=args.approval_id,
            on_progress=on_progress,
        ),
    )


def _cmd_destroy(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    return _apply(
        args,
        lambda on_progress: engine.destroy(
            args.stack,
            user=args.user,
            preview_id=args.preview_id,
            approval_id=args.approval_id,
            targets=args.target,
            on_progress=on_progress,
        ),
    )


def _cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    result = _engine(settings).refresh(
        args.stack, user=args.user, preview_only=not args.apply, clear_pending_creates=args.clear_pending_creates
    )
    if args.json:
        _print(result.model_dump())
    else:
        verb = "drifted" if result.preview_only else "refreshed"
        print(f"{args.stack}: {len(result.drifted)} resource(s) {verb}")
        for c in result.drifted:
            print(f"  {c.op:<7} {c.type}  {c.urn.rsplit('::', 1)[-1]}  [{', '.join(c.changed_keys)}]")
    return EXIT_DRIFT if result.preview_only and result.drifted and args.exit_code else EXIT_OK


def _cmd_cancel(args: argparse.Namespace, settings: Settings) -> int:
    record = _engine(settings).cancel(args.operation_id, user=args.user, admin=args.admin)
    print(f"asked operation {record.id} ({record.tool} of {record.stack}) to stop")
    return EXIT_OK


def _cmd_ops(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if args.action == "verify":
        report = engine.audit.verify()
        if args.json:
            _print(report.model_dump())
        else:
            print(f"audit chain: {report.records} records, {'intact' if report.ok else 'TAMPERED'}")
            for p in report.problems:
                print(f"  {p}")
        return EXIT_OK if report.ok else EXIT_FAILED
    if args.action == "show":
        if not args.operation_id:
            raise InvalidInput("ops show needs an operation id")
        _print(engine.get_operation(args.operation_id).model_dump())
        return EXIT_OK
    page = engine.list_operations(
        stack=args.stack, user=args.filter_user, status=args.status, limit=args.limit, cursor=args.cursor
    )
    if args.json:
        _print(page.model_dump())
    else:
        for r in page.items:
            print(f"{r.start_ts[:19]}  {r.id}  {r.tool:<15} {r.stack or '-':<9} {r.status:<11} {r.user}")
        if page.next_cursor:
            print(f"more: --cursor {page.next_cursor}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datamcp", description="Preview and apply infrastructure safely.")
    parser.add_argument("--version", action="version", version=f"datamcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, func: Callable[..., int], help_text: str, *, user: bool = False, json_flag: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        if user:
            p.add_argument("--user", default=None, help="who runs this (default: DATAMCP_DEFAULT_USER or OS user)")
        return p

    command("doctor", _cmd_doctor, "check the toolchain, backend and audit store")
    command("stacks", _cmd_stacks, "list the stacks this project defines")
    p = command("synth", _cmd_synth, "the stack's resource graph, offline (no CLI, no credentials)", json_flag=False)
    p.add_argument("stack")
    p.add_argument("--format", choices=["tree", "json", "markdown"], default="tree")
    p = command("describe", _cmd_describe, "a stack's config schema, outputs (secrets masked), last operation")
    p.add_argument("stack")
    p = command("preview", _cmd_preview, "preview changes and save them under a preview id", user=True, json_flag=False)
    p.add_argument("stack")
    p.add_argument("--target", action="append", help="limit to this resource URN (repeatable)")
    p.add_argument("--refresh", action="store_true", help="refresh state before previewing")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p = command("approve", _cmd_approve, "approve a preview (the approver must not be who asked for it)")
    p.add_argument("preview_id")
    p.add_argument("--approver", default=None, help="who approves (default: DATAMCP_DEFAULT_USER or OS user)")
    for name, func, text in (
        ("up", _cmd_up, "apply an approved preview (without ids: dry run, a preview only)"),
        ("destroy", _cmd_destroy, "destroy with an approved destroy preview (else: dry run)"),
    ):
        p = command(name, func, text, user=True)
        p.add_argument("stack")
        p.add_argument("--preview-id")
        p.add_argument("--approval-id")
        if name == "destroy":
            p.add_argument("--target", action="append", help="destroy only these URNs (protected ones included)")
    p = command("refresh", _cmd_refresh, "detect drift (default), or --apply to update the state", user=True)
    p.add_argument("stack")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--preview-only", action="store_true", default=True, help="only report drift (default)")
    mode.add_argument("--apply", action="store_true", help="write what exists into the state")
    p.add_argument("--clear-pending-creates", action="store_true", help="with --apply: drop pending creates")
    p.add_argument("--exit-code", action="store_true", help=f"exit {EXIT_DRIFT} when drift is found")
    p = command("cancel", _cmd_cancel, "stop a running operation gracefully", user=True, json_flag=False)
    p.add_argument("operation_id")
    p.add_argument("--admin", action="store_true", help="cancel another user's operation")
    p = command("ops", _cmd_ops, "the audit trail: list, show ID, verify")
    p.add_argument("action", nargs="?", choices=["list", "show", "verify"], default="list")
    p.add_argument("operation_id", nargs="?")
    p.add_argument("--stack")
    p.add_argument("--user", dest="filter_user")
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--cursor")
    return parser


EXIT_FOR_ERROR: list[tuple[type[DataMcpError], int]] = [
    (OperationCancelled, EXIT_CANCELLED),
    (StackBusy, EXIT_BUSY),
    (ApprovalRequired, EXIT_REFUSED),
    (ApprovalInvalid, EXIT_REFUSED),
    (StalePreview, EXIT_REFUSED),
    (PendingOperations, EXIT_REFUSED),
    (InvalidInput, EXIT_INVALID),
    (DataMcpError, EXIT_FAILED),
]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        for attr in ("user", "approver"):
            if hasattr(args, attr) and getattr(args, attr) is None:
                setattr(args, attr, settings.default_user)
        return int(args.func(args, settings))
    except DataMcpError as exc:
        code = next(c for t, c in EXIT_FOR_ERROR if isinstance(exc, t))
        print(f"datamcp: {exc.message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
