"""`datamcp`: the operator's command line, a thin adapter over the engine (parsing, presentation, exit codes)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from engine import __version__
from engine.doctor import run_checks
from engine.errors import DataMcpError, InvalidInput
from engine.settings import load_settings

# Exit codes (documented in docs/cli.md): stable, so scripts and CI can branch on them.
EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed, or a check failed
EXIT_USAGE = 2  # argparse's own code for bad command-line syntax
EXIT_INVALID = 3  # bad input or settings: nothing was run


def _cmd_doctor(args: argparse.Namespace) -> int:
    report = run_checks(load_settings())
    if args.json:
        print(json.dumps({"ok": report.ok, "checks": [c.model_dump() for c in report.checks]}, indent=2))
    else:
        width = max(len(c.name) for c in report.checks)
        for c in report.checks:
            mark = "ok" if c.ok else ("MISSING" if c.required else "absent")
            print(f"{c.name:<{width}}  {mark:<7}  {c.detail}")
        print("doctor: all required pieces present" if report.ok else "doctor: required pieces are missing")
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_stacks(args: argparse.Namespace) -> int:
    from stacks.registry import list_stacks

    specs = list_stacks()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "cloud": s.cloud,
                        "environment": s.environment,
                        "description": s.description,
                        "config_file": s.config_file,
                    }
                    for s in specs
                ],
                indent=2,
            )
        )
    else:
        for s in specs:
            print(f"{s.name:<10} {s.cloud:<4} {s.environment:<5} {s.description}")
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace) -> int:
    from engine.render import synth_json, synth_tree
    from engine.synth import synth

    settings = load_settings()
    result = synth(args.stack, settings.project_root, isolated=False)  # one-shot process: no worker needed
    print(synth_json(result) if args.format == "json" else synth_tree(result))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datamcp", description="Preview and apply infrastructure safely.")
    parser.add_argument("--version", action="version", version=f"datamcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="check the toolchain, backend and audit store")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(func=_cmd_doctor)
    stacks = sub.add_parser("stacks", help="list the stacks this project defines")
    stacks.add_argument("--json", action="store_true", help="print JSON")
    stacks.set_defaults(func=_cmd_stacks)
    synth = sub.add_parser("synth", help="the stack's full resource graph, offline (no CLI, no credentials)")
    synth.add_argument("stack", help="a stack name, e.g. aws-dev")
    synth.add_argument("--format", choices=["tree", "json"], default="tree")
    synth.set_defaults(func=_cmd_synth)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InvalidInput as exc:
        print(f"datamcp: {exc.message}", file=sys.stderr)
        return EXIT_INVALID
    except DataMcpError as exc:
        print(f"datamcp: {exc.message}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
