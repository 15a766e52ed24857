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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datamcp", description="Preview and apply infrastructure safely.")
    parser.add_argument("--version", action="version", version=f"datamcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="check the toolchain, backend and audit store")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.set_defaults(func=_cmd_doctor)
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
