"""The `datamcp` command line: subcommands and their flags."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from engine import __version__
from engine.cli import commands as c
from engine.cli.policy_commands import cmd_policy
from engine.cli.store_commands import cmd_store
from engine.errors import ExitCode


class _Commands:
    """Adds subcommands with the flags most of them share."""

    def __init__(self, sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self.sub = sub

    def __call__(
        self, name: str, func: Callable[..., int], help_text: str, *, user: bool = False, json_flag: bool = True
    ) -> argparse.ArgumentParser:
        p = self.sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        if user:
            p.add_argument("--user", default=None, help="who runs this (default: DATAMCP_DEFAULT_USER or OS user)")
        return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datamcp", description="Preview and apply infrastructure safely.")
    parser.add_argument("--version", action="version", version=f"datamcp {__version__}")
    command = _Commands(parser.add_subparsers(dest="command", required=True))
    _read_commands(command)
    _change_commands(command)
    _audit_commands(command)
    return parser


def _read_commands(command: _Commands) -> None:
    p = command("doctor", c.cmd_doctor, "check the toolchain, backend, shared store and audit store")
    p.add_argument("--fix", action="store_true", help="apply the database migrations this DataMCP needs")
    command("stacks", c.cmd_stacks, "list the stacks this project defines")
    p = command("synth", c.cmd_synth, "the stack's resource graph, offline (no CLI, no credentials)", json_flag=False)
    p.add_argument("stack")
    p.add_argument("--format", choices=["tree", "json", "markdown"], default="tree")
    p = command("describe", c.cmd_describe, "a stack's config schema, outputs (secrets masked), last operation")
    p.add_argument("stack")


def _change_commands(command: _Commands) -> None:
    p = command("preview", c.cmd_preview, "preview changes, saved under a preview id", user=True, json_flag=False)
    p.add_argument("stack")
    p.add_argument("--target", action="append", help="limit to this resource URN (repeatable)")
    p.add_argument("--refresh", action="store_true", help="refresh state before previewing")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p = command("show", c.cmd_show, "exactly what approving a preview releases: old -> new values, the binding")
    p.add_argument("preview_id")
    p = command("approve", c.cmd_approve, "approve a preview (the approver must not be who asked for it)")
    p.add_argument("preview_id")
    p.add_argument("--key", help="sign with this SSH private key (signed mode; the trust list names its owner)")
    p.add_argument("--approver", default=None, help="dev mode only: who approves (default: the OS user)")
    p.add_argument("--yes", action="store_true", help="do not show the preview and ask first")
    p.add_argument(
        "--as-server",
        action="store_true",
        help="sign with the server key for --approver, a person this process authenticated (CI's reviewer)",
    )
    p.add_argument("--evidence", action="append", metavar="KEY=VALUE", help="with --as-server: how (recorded)")
    for name, func, text in (
        ("up", c.cmd_up, "apply an approved preview (without ids: dry run, a preview only)"),
        ("destroy", c.cmd_destroy, "destroy with an approved destroy preview (else: dry run)"),
    ):
        p = command(name, func, text, user=True)
        p.add_argument("stack")
        p.add_argument("--preview-id")
        p.add_argument("--approval-id", action="append", help="an approval of the preview (repeat for several)")
        if name == "destroy":
            p.add_argument("--target", action="append", help="destroy only these URNs (protected ones included)")
    p = command("refresh", c.cmd_refresh, "detect drift (default), or --apply to update the state", user=True)
    p.add_argument("stack")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--preview-only", action="store_true", default=True, help="only report drift (default)")
    mode.add_argument("--apply", action="store_true", help="write what exists into the state")
    p.add_argument("--clear-pending-creates", action="store_true", help="with --apply: drop pending creates")
    p.add_argument("--exit-code", action="store_true", help=f"exit {ExitCode.DRIFT.value} when drift is found")
    p = command("cancel", c.cmd_cancel, "stop a running operation gracefully", user=True, json_flag=False)
    p.add_argument("operation_id")
    p.add_argument("--admin", action="store_true", help="cancel another user's operation (signed mode: with --key)")
    p.add_argument("--key", help="prove the admin role with this SSH private key")


def _audit_commands(command: _Commands) -> None:
    p = command("policy", cmd_policy, "the policy pack: test (its Rego unit tests), eval STACK (on synth, offline)")
    p.add_argument("action", choices=["test", "eval"])
    p.add_argument("stack", nargs="?")
    p = command("store", cmd_store, "the shared store: import (a checkout's files into DATAMCP_STORE_URL)")
    p.add_argument("action", choices=["import"])
    p.add_argument("--state-dir", help="the state dir to import (default: DATAMCP_STATE_DIR)")
    p = command("ops", c.cmd_ops, "the audit trail: list, show ID, verify, reinit (admins, after a loss)")
    p.add_argument("action", nargs="?", choices=["list", "show", "verify", "reinit"], default="list")
    p.add_argument("--reason", help="reinit: what happened to the audit store (recorded)")
    p.add_argument("--key", help="reinit: prove the admin role with this SSH private key")
    p.add_argument(
        "--full",
        action="store_true",
        help="verify: every record, checkpoint, index row and attachment (default: what came after the last full "
        "verify's mark)",
    )
    p.add_argument("operation_id", nargs="?")
    p.add_argument("--stack")
    p.add_argument("--user", dest="filter_user")
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--cursor")
