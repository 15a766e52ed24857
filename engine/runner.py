"""A PulumiCommand that can be interrupted: the Python Automation API has no cancel handle (pulumi/pulumi#9103).

It runs the CLI exactly as the SDK does, but keeps the process so that `interrupt()` can send SIGINT: the CLI then
stops starting new steps, waits for the ones in flight, writes its state and releases the stack's lock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult, OnOutput, _fixup_path
from pulumi.automation.errors import create_command_error
from semver import VersionInfo


class InterruptiblePulumiCommand(auto.PulumiCommand):
    def __init__(self, *args: Any, checked: tuple[str, VersionInfo] | None = None, **kwargs: Any) -> None:
        """`checked=(command, version)` reuses an earlier version check instead of running `pulumi version` again."""
        if checked is not None:
            self.command, self.version = checked
        else:
            super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen[str]] = set()
        self._signalled: set[int] = set()
        self.interrupted = False

    def interrupt(self) -> bool:
        """Ask every running CLI process of this command to stop gracefully, once: a second SIGINT makes the CLI
        stop at once and leave operations pending. True if one was running."""
        with self._lock:
            self.interrupted = True
            running = [p for p in self._processes if p.poll() is None and p.pid not in self._signalled]
            self._signalled.update(p.pid for p in running)
        for process in running:
            process.send_signal(signal.SIGINT)
        return bool(running)

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        sep = args.index("--") if "--" in args else len(args)
        if "--non-interactive" not in args[:sep]:
            args.insert(0, "--non-interactive")
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        if os.path.isabs(self.command):
            env = _fixup_path(env, os.path.dirname(self.command))
        stdout_chunks: list[str] = []
        stderr_chunks: list[str] = []

        def consume(stream: Any, callback: OnOutput | None, chunks: list[str]) -> None:
            for line in iter(stream.readline, ""):
                stripped = line.rstrip()
                if callback:
                    callback(stripped)
                chunks.append(stripped)
            stream.close()

        with subprocess.Popen(
            [self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            encoding="utf-8",
        ) as process:
            with self._lock:
                self._processes.add(process)
                if self.interrupted:  # cancelled before the CLI started
                    self._signalled.add(process.pid)
                    process.send_signal(signal.SIGINT)
            readers = [
                threading.Thread(target=consume, args=(process.stdout, on_output, stdout_chunks)),
                threading.Thread(target=consume, args=(process.stderr, on_error, stderr_chunks)),
            ]
            for t in readers:
                t.start()
            for t in readers:
                t.join()
            process.wait()
            with self._lock:
                self._processes.discard(process)
        result = CommandResult(
            stdout="\n".join(stdout_chunks), stderr="\n".join(stderr_chunks), code=process.returncode
        )
        if process.returncode != 0:
            raise create_command_error(result)
        return result
