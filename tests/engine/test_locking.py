"""Stack locks: who holds one, what pulumi's own lock message says, and whether a holder's process still runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import locking
from engine.errors import StackBusy
from engine.locking import StackLocks, backend_lock_holder, holder_alive, pid_alive


def test_nobody_holds_a_free_stack(tmp_path: Path) -> None:
    assert StackLocks(tmp_path).holder("aws-dev") is None


def test_the_holder_is_named_while_the_lock_is_held(tmp_path: Path) -> None:
    locks = StackLocks(tmp_path)
    with locks.hold("aws-dev", operation_id="op-00001", user="alice"):
        holder = locks.holder("aws-dev")
    assert holder is not None and (holder["operation_id"], holder["user"], holder["pid"]) == (
        "op-00001",
        "alice",
        os.getpid(),
    )


def test_a_held_stack_refuses_another_holder_naming_the_first(tmp_path: Path) -> None:
    locks = StackLocks(tmp_path)
    with (
        locks.hold("aws-dev", operation_id="op-00001", user="alice"),
        pytest.raises(StackBusy) as caught,
        StackLocks(tmp_path).hold("aws-dev", operation_id="op-00002", user="bob"),
    ):
        pass
    assert "op-00001 by alice" in caught.value.message


def test_an_unreadable_holder_file_names_nobody(tmp_path: Path) -> None:
    (tmp_path / "aws-dev.holder.json").write_text("{half")
    assert StackLocks(tmp_path).holder("aws-dev") is None


def test_a_holder_file_is_read_as_written(tmp_path: Path) -> None:
    (tmp_path / "aws-dev.holder.json").write_text(json.dumps({"user": "alice"}))
    assert StackLocks(tmp_path).holder("aws-dev") == {"user": "alice"}


def test_pulumis_lock_message_names_who_holds_it() -> None:
    message = "the stack is currently locked by 1 lock(s): created by alice@host (pid 4242) at 2027-01-15T08:00:00Z"
    assert backend_lock_holder(message) == {"who": "alice@host", "pid": "4242", "since": "2027-01-15T08:00:00Z"}


def test_another_message_names_nobody() -> None:
    assert backend_lock_holder("conflict: another update is in progress") == {}


def test_a_running_process_is_alive_and_asking_leaves_it_running() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    try:
        assert pid_alive(child.pid)
    finally:
        assert child.wait(timeout=30) == 0


def test_a_finished_process_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


def test_a_killed_process_not_yet_reaped_is_not_alive() -> None:
    """A zombie: killed, its exit not yet collected (a CLI killed with its engine, until init reaps it)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        child.kill()
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 30
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the killed child never became a zombie"
            time.sleep(0.01)
        assert not pid_alive(child.pid) and not holder_alive(child.pid, datetime.now(UTC).isoformat())
    finally:
        child.wait(timeout=30)


def test_a_process_of_another_user_is_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_yours(pid: int, signal: int) -> None:
        raise PermissionError(pid)

    monkeypatch.setattr(locking.os, "kill", not_yours)
    assert pid_alive(1)


def test_a_lock_taken_before_its_holder_process_started_belongs_to_a_dead_process() -> None:
    """A backend lock names its holder by pid; a process that started after the lock was taken only reuses the dead
    holder's number (a busy machine cycles through pids), so the lock is stale."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        now = datetime.now(UTC)
        assert holder_alive(child.pid, (now - timedelta(seconds=1)).isoformat())  # within the clock's slack
        assert holder_alive(child.pid, (now + timedelta(minutes=5)).isoformat())  # taken after it started
        assert not holder_alive(child.pid, (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"))
        assert holder_alive(child.pid, "not a time")  # unreadable: the process's word counts
    finally:
        child.kill()
        child.wait(timeout=30)
    assert not holder_alive(child.pid, now.isoformat())
