"""`datamcp`: the operator's command line, a thin adapter over the engine (parsing, presentation, exit codes)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence

from engine.cli.parser import build_parser
from engine.errors import DataMcpError, ExitCode
from engine.settings import load_settings
from engine.store_files import restrict_umask

# Exit codes (docs/cli.md), kept as names for scripts and tests; each error carries its own.
EXIT_OK, EXIT_FAILED, EXIT_INVALID = ExitCode.OK, ExitCode.FAILED, ExitCode.INVALID
EXIT_REFUSED, EXIT_BUSY, EXIT_CANCELLED, EXIT_DRIFT = (
    ExitCode.REFUSED,
    ExitCode.BUSY,
    ExitCode.CANCELLED,
    ExitCode.DRIFT,
)
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away (`| head`)


def main(argv: Sequence[str] | None = None) -> int:
    one_shot = argv is None  # the process's own command line; tests and other callers pass argv
    if one_shot:
        # Importing the cloud SDKs allocates hundreds of thousands of tracked objects: at the default threshold
        # (700) that is ~600 young collections for nothing, as nearly all of it lives until the process exits.
        gc.set_threshold(10_000)
    try:
        args = build_parser().parse_args(argv)
        try:
            code = _run(args)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        except BrokenPipeError:
            _drop_stdout()
            return EXIT_BROKEN_PIPE
        return code
    finally:
        if one_shot:
            _skip_exit_collections()


def _skip_exit_collections() -> None:
    """Leave what the process loaded to the OS at exit instead of to the collector.

    Once the interpreter tears the modules down at exit, the cloud SDKs' hundreds of thousands of objects sit in
    reference cycles that the shutdown collections find and free one by one: ~0.6 s of a 2 s `datamcp synth`.
    Frozen objects are never collected (the MCP server freezes what it loaded after warm-up too): atexit handlers
    still run and objects freed by reference counting are still finalized; only objects in cycles are not freed.
    """
    gc.freeze()


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        restrict_umask(settings.approval_mode == "signed")
        for attr in ("user", "approver"):
            if hasattr(args, attr) and getattr(args, attr) is None:
                setattr(args, attr, settings.default_user)
        return int(args.func(args, settings))
    except DataMcpError as exc:
        print(f"datamcp: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)


def _drop_stdout() -> None:
    """The reader of stdout is gone (`datamcp ops show ID | head -1`): send whatever is still buffered to
    /dev/null so that the interpreter's final flush does not fail again (the Python docs' recipe for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_BUSY",
    "EXIT_CANCELLED",
    "EXIT_DRIFT",
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_REFUSED",
    "main",
]
