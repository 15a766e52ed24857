"""The `datamcp` commands: each turns parsed arguments into one engine call and prints its result.

What only some commands need (the engine, the doctor, the trust package) is imported inside them: every `datamcp`
process imports this module, and `datamcp synth` should not pay for the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.cli.render import preview_markdown, preview_text, review_text, synth_json, synth_markdown, synth_tree
from engine.errors import ExitCode, InvalidInput
from engine.results import ProgressEvent
from engine.settings import Settings
from engine.vocabulary import ProgressKind, urn_name

EXIT_OK, EXIT_FAILED, EXIT_DRIFT = ExitCode.OK, ExitCode.FAILED, ExitCode.DRIFT


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
        if not self.enabled or event.kind not in (ProgressKind.RESOURCE_STARTED, ProgressKind.RESOURCE_FINISHED):
            return
        total = event.total or 0
        width = 30
        filled = int(width * event.done / total) if total else 0
        bar = "#" * filled + "." * (width - filled)
        label = f"{event.op or ''} {urn_name(event.urn or '')}"[:50]
        counts = f"{event.done}/{total}" if total else str(event.done)
        sys.stderr.write(f"\r[{bar}] {counts:>9} {label:<50}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from engine.doctor import run_checks

    report = run_checks(settings, fix=args.fix)
    if args.json:
        _print({"ok": report.ok, "checks": [c.model_dump() for c in report.checks]})
    else:
        width = max(len(c.name) for c in report.checks)
        for c in report.checks:
            mark = "ok" if c.ok else ("MISSING" if c.required else "absent")
            print(f"{c.name:<{width}}  {mark:<7}  {c.detail}")
        print("doctor: all required pieces present" if report.ok else "doctor: required pieces are missing")
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_stacks(args: argparse.Namespace, settings: Settings) -> int:
    from engine.operations import stack_infos

    infos = stack_infos()
    if args.json:
        _print([s.model_dump() for s in infos])
    else:
        for s in infos:
            print(f"{s.name:<10} {s.cloud:<4} {s.environment:<5} {s.description}")
    return EXIT_OK


def cmd_synth(args: argparse.Namespace, settings: Settings) -> int:
    from engine.synth import synth

    result = synth(args.stack, settings.project_root, isolated=False)  # one-shot process: no worker needed
    render = {"json": synth_json, "markdown": synth_markdown, "tree": synth_tree}[args.format]
    print(render(result))
    return EXIT_OK


def cmd_describe(args: argparse.Namespace, settings: Settings) -> int:
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


def cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
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


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    review = _engine(settings).review(args.preview_id)
    if args.json:
        _print(review.model_dump())
    else:
        print(review_text(review))
    return EXIT_OK


def cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if not args.json and sys.stdin.isatty() and not args.yes:
        print(review_text(engine.review(args.preview_id)))
        if input("Approve exactly this? [y/N] ").strip().lower() not in ("y", "yes"):
            print("not approved")
            return EXIT_OK
    if args.key:
        approval = engine.approve_with_key(args.preview_id, Path(args.key).expanduser(), interactive=True)
    elif args.as_server:
        evidence = dict(item.split("=", 1) for item in args.evidence or [] if "=" in item)
        approval = engine.approve_as_server(args.preview_id, approver=args.approver, evidence=evidence)
    else:
        from engine.trust.proofs import DEV_WARNING

        print(DEV_WARNING, file=sys.stderr)
        approval = engine.approve(args.preview_id, approver=args.approver)
    if args.json:
        _print(approval.model_dump(exclude={"signature"}))
    else:
        print(
            f"approved preview {approval.preview_id} of {approval.stack} as {approval.approver} ({approval.method})\n"
            f"approval id: {approval.approval_id} (single use)"
        )
    return EXIT_OK


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    return _apply(args, settings, destroy=False)


def cmd_destroy(args: argparse.Namespace, settings: Settings) -> int:
    return _apply(args, settings, destroy=True)


def _apply(args: argparse.Namespace, settings: Settings, *, destroy: bool) -> int:
    engine = _engine(settings)
    ids = {"preview_id": args.preview_id, "approval_id": args.approval_id}
    bar = _ProgressBar(not args.json)
    try:
        if destroy:
            result = engine.destroy(args.stack, user=args.user, targets=args.target, on_progress=bar, **ids)
        else:
            result = engine.up(args.stack, user=args.user, on_progress=bar, **ids)
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


def cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    result = _engine(settings).refresh(
        args.stack, user=args.user, preview_only=not args.apply, clear_pending_creates=args.clear_pending_creates
    )
    if args.json:
        _print(result.model_dump())
    else:
        verb = "drifted" if result.preview_only else "refreshed"
        print(f"{args.stack}: {len(result.drifted)} resource(s) {verb}")
        for c in result.drifted:
            print(f"  {c.op:<7} {c.type}  {urn_name(c.urn)}  [{', '.join(c.changed_keys)}]")
    return EXIT_DRIFT if result.preview_only and result.drifted and args.exit_code else EXIT_OK


def cmd_cancel(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if args.key:
        record = engine.cancel_with_key(args.operation_id, Path(args.key).expanduser())
    elif args.admin and settings.approval_mode == "signed":
        raise InvalidInput("--admin must be proven here: add --key with an SSH key the trust list gives the admin role")
    else:
        if args.admin:
            from engine.trust.proofs import DEV_WARNING

            print(DEV_WARNING, file=sys.stderr)
        record = engine.cancel(args.operation_id, user=args.user, admin=args.admin)
    print(f"asked operation {record.id} ({record.tool} of {record.stack}) to stop")
    return EXIT_OK


def _verify(args: argparse.Namespace, engine: Any) -> int:
    report = engine.audit.verify(full=args.full)
    if args.json:
        _print(report.model_dump())
        return EXIT_OK if report.ok else EXIT_FAILED
    anchor, first, last = report.anchor, report.checked_from, report.checked_from + report.records_checked - 1
    checked = f"records {first}-{last} checked" if report.records_checked else f"no records after {first - 1}"
    print(f"audit trail: {'intact' if report.ok else 'TAMPERED'}")
    if report.full_verified_at:
        trusted = f"1-{first - 1} found intact by the full verify of {report.full_verified_at[:19]}"
        print(f"  verify:      incremental: {checked}, {trusted} (`--full` checks them all again)")
    else:
        print(f"  verify:      full: {checked}" + (f" ({report.scope_note})" if report.scope_note else ""))
    print(f"  records:     {report.records} ({report.unsigned_records} after the last checkpoint)")
    print(f"  checkpoints: {report.checkpoints} checked, last at record {report.last_checkpoint}, signatures checked")
    print(f"  anchor:      {anchor.status} ({anchor.location}, record {anchor.seq})")
    for p in report.problems:
        print(f"  {p}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _reinit(args: argparse.Namespace, engine: Any, settings: Settings) -> int:
    if not args.reason or len(args.reason.strip()) < 10:
        raise InvalidInput("ops reinit needs --reason with what happened to the audit store (10 characters or more)")
    admin = engine.prove_admin(Path(args.key).expanduser(), "reinit") if args.key else args.filter_user
    if not args.key and settings.approval_mode == "signed":
        raise InvalidInput(
            "ops reinit must be proven here: add --key with an SSH key the trust list gives the admin role"
        )
    checkpoint = engine.reinit_audit(args.reason, admin=admin or settings.default_user)
    print(f"audit chain restarted at record {checkpoint.seq}: {checkpoint.note}")
    return EXIT_OK


def cmd_ops(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if args.action == "verify":
        return _verify(args, engine)
    if args.action == "reinit":
        return _reinit(args, engine, settings)
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
