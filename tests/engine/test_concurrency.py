"""Many agents at once: concurrent operations on different stacks succeed exactly as they do alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

FOUR_AT_ONCE = """
import sys, threading
from pathlib import Path
from engine.operations import Engine
from engine.settings import Settings
root, state = Path(sys.argv[1]), Path(sys.argv[2])
engine = Engine(Settings(project_root=root, state_dir=state, tools_dir=root / ".tools/bin", sandbox=True))
errors = []
def preview(stack):
    try:
        engine.preview(stack, user="alice")
    except Exception as exc:
        errors.append(f"{stack}: {exc}")
for _ in range(2):
    threads = [threading.Thread(target=preview, args=(s,)) for s in ("aws-dev", "aws-prod", "gcp-dev", "gcp-prod")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
print("\\n".join(errors))
sys.exit(1 if errors else 0)
"""


def test_previews_of_all_four_stacks_at_once_in_a_fresh_process_all_succeed(tmp_path: Path) -> None:
    """A fresh process: the cloud SDKs have not loaded their lazily imported submodules yet."""
    done = subprocess.run(
        [sys.executable, "-c", FOUR_AT_ONCE, str(ROOT), str(tmp_path / "state")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
