"""The interruptible CLI runner: a cancel is one graceful SIGINT, however many times it is asked for."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from pathlib import Path

from engine.runner import InterruptiblePulumiCommand

COUNTER = """
import signal, sys, time
count = 0
def on_int(signum, frame):
    global count
    count += 1
signal.signal(signal.SIGINT, on_int)
print("ready", flush=True)
deadline = time.time() + 10
while time.time() < deadline and count == 0:
    time.sleep(0.05)
time.sleep(1.0)  # a second SIGINT would arrive in this window
sys.stderr.write(f"sigints={count}\\n")
sys.exit(1)
"""


def test_a_second_interrupt_does_not_signal_the_cli_again(tmp_path: Path) -> None:
    script = tmp_path / "fake_cli.py"
    script.write_text(COUNTER)
    command = InterruptiblePulumiCommand(checked=(sys.executable, None))  # type: ignore[arg-type]
    lines: list[str] = []
    ready = threading.Event()

    def output(line: str) -> None:
        lines.append(line)
        if line == "ready":
            ready.set()

    def run() -> None:
        with contextlib.suppress(Exception):  # the fake CLI exits 1 after counting; only the count matters here
            argv = [str(script), "--non-interactive", "--"]
            command.run(argv, str(tmp_path), {}, on_output=output, on_error=lines.append)

    worker = threading.Thread(target=run)
    worker.start()
    assert ready.wait(30), "the fake CLI did not start"
    command.interrupt()
    time.sleep(0.2)
    command.interrupt()  # e.g. the cross-process watcher seeing the same cancel request
    worker.join(30)
    assert "sigints=1" in lines, lines
