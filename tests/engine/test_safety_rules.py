"""Named tests for the safety rules of docs/security.md and docs/engine.md that need more than one process, the real
CLI or a secret that looks like nothing (issue 15). Each fails when its rule is switched off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from engine.audit.sqlite import SqliteAuditStore
from engine.errors import OperationFailed, SandboxModeMismatch, StackBusy
from engine.locking import StackLocks
from engine.masking import Masker
from engine.operations import Engine
from engine.operations.context import OperationContext
from engine.settings import Settings

pytestmark = pytest.mark.slow
STACK = "gcp-dev"
DATAMCP = Path(sys.executable).with_name("datamcp")
PHRASE = "correct horse battery staple"  # a secret that matches no credential pattern


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAMCP_", "PULUMI_"))}
    for name in ("project_root", "state_dir", "tools_dir", "sandbox"):
        env[f"DATAMCP_{name.upper()}"] = str(getattr(settings, name))
    return {**env, **extra}


def wait_for(condition: Any, what: str, seconds: float = 60) -> None:
    """Poll until `condition()` holds; fail the test (not hang) past the deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def test_two_processes_racing_one_approval_apply_it_once(engine: Engine, sandbox_settings: Settings) -> None:
    preview = engine.preview(STACK, user="alice")
    approval = engine.approve(preview.preview_id, approver="bob").approval_id
    argv = [str(DATAMCP), "up", STACK, "--user", "alice", "--preview-id", preview.preview_id, "--approval-id", approval]
    env = cli_env(sandbox_settings, DATAMCP_LOCK_WAIT_SECONDS="120")
    racers = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in (1, 2)
    ]
    codes = sorted(p.wait(timeout=300) for p in racers)
    assert codes == [0, 4]  # one applied; the other found the approval used (refused, exit 4)
    ups = [r for r in engine.list_operations(limit=100).items if r.tool == "up"]
    assert sorted(r.status for r in ups) == ["refused", "succeeded"]


def test_cancel_from_another_process_stops_an_operation_running_in_a_third(
    engine: Engine, sandbox_settings: Settings
) -> None:
    preview = engine.preview(STACK, user="alice")
    approval = engine.approve(preview.preview_id, approver="bob").approval_id
    stall = json.dumps({"stall_create": "network-vpc", "stall_seconds": "30"})
    env = cli_env(sandbox_settings, DATAMCP_SANDBOX_FAULTS=stall)
    argv = [str(DATAMCP), "up", STACK, "--user", "alice", "--preview-id", preview.preview_id, "--approval-id", approval]
    running = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: engine.locks.holder(STACK), "the up to take the stack's lock")
        op_id = engine.locks.holder(STACK)["operation_id"]  # type: ignore[index]
        cancel = subprocess.run(
            [str(DATAMCP), "cancel", op_id, "--user", "alice"], env=cli_env(sandbox_settings), timeout=60
        )
        assert cancel.returncode == 0
        assert running.wait(timeout=120) == 6  # exit code: cancelled
    finally:
        running.kill()
    assert engine.get_operation(op_id).status == "cancelled"
    canceller = next(r for r in engine.list_operations(limit=100).items if r.tool == "cancel")
    assert canceller.user == "alice" and canceller.params["operation_id"] == op_id


def test_real_providers_refuse_a_stack_the_simulator_deployed(engine: Engine, sandbox_settings: Settings) -> None:
    preview = engine.preview(STACK, user="alice")
    approval = engine.approve(preview.preview_id, approver="bob").approval_id
    assert engine.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=approval).applied
    real = Engine(sandbox_settings.model_copy(update={"sandbox": False}))
    with pytest.raises(SandboxModeMismatch, match="resources were made with the simulated cloud"):
        real.preview(STACK, user="alice")
    assert real.list_operations(limit=1).items[0].status == "refused"


def test_a_secret_that_looks_like_nothing_is_masked_everywhere(
    engine: Engine, sandbox_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    pulumi = str(sandbox_settings.tools_dir / "pulumi")
    env = {**cli_env(sandbox_settings), "PULUMI_BACKEND_URL": sandbox_settings.backend_url}
    env |= {"PULUMI_CONFIG_PASSPHRASE": sandbox_settings.config_passphrase.get_secret_value()}  # type: ignore[union-attr]
    env |= {"PULUMI_HOME": str(sandbox_settings.pulumi_home), "PULUMI_SKIP_UPDATE_CHECK": "true"}
    cwd = sandbox_settings.project_root
    sandbox_settings.backend_path.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
    made = subprocess.run([pulumi, "stack", "select", "-c", STACK], cwd=cwd, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    set_secret = [pulumi, "config", "set", "--secret", "--stack", STACK, "datamcp:repo_token", PHRASE]
    subprocess.run(set_secret, cwd=cwd, env=env, check=True, timeout=60)
    preview = engine.preview(STACK, user="alice")
    approval = engine.approve(preview.preview_id, approver="bob").approval_id
    # The simulated cloud refuses the credentials Secret and echoes the request, the phrase in plain text with it.
    faults = json.dumps({"reject_create": "argocd-repo-credentials"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAMCP_SANDBOX_FAULTS", faults)
        with pytest.raises(OperationFailed) as failed:
            engine.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=approval)
    record = engine.get_operation(failed.value.details["operation_id"])  # type: ignore[arg-type]
    assert "the cloud refused the request" in record.stderr + record.stdout, "the echo must reach the output"
    everything = json.dumps(SqliteAuditStore(sandbox_settings.state_dir / "audit.db").dump())
    everything += failed.value.message + preview.model_dump_json() + engine.review(preview.preview_id).model_dump_json()
    everything += "".join(p.read_text() for p in (sandbox_settings.state_dir / "previews").glob("*.json"))
    assert "battery staple" not in everything and "[secret]" in everything  # no piece of it either
    # Pulumi filters the values it knows are secret from its own output; the engine learns them too, for every
    # string it makes itself (errors, audit fields, results), so the two layers do not depend on each other.
    op = OperationContext(tool="up", stack=STACK, user="alice", params={})
    engine.parts.sessions.learn_secrets(op, engine.parts.sessions.handle(None, STACK))
    assert PHRASE in op.masker.secrets and op.masker.text(f"x {PHRASE} y") == "x [secret] y"


def test_the_engine_learns_secret_values_for_its_masker() -> None:
    masker = Masker()
    masker.add(PHRASE)
    assert masker.text(f"the token is {PHRASE}!") == "the token is [secret]!"
    assert masker.obj({"a": [PHRASE, {"b": f"x{PHRASE}y"}]}) == {"a": ["[secret]", {"b": "x[secret]y"}]}
    assert Masker().text(PHRASE) == PHRASE  # nothing else would have masked it


def test_secret_settings_never_show_in_their_repr(settings: Settings, tmp_path: Path) -> None:
    secrets = {
        "config_passphrase": "passphrase-0123456789",
        "approval_key": "approval-key-0123456789",
        "server_key": "server-key-0123456789",
    }
    shown = settings.model_copy(update={k: SecretStr(v) for k, v in secrets.items()})
    text = repr(shown) + str(shown) + shown.model_dump_json()
    assert not any(value in text for value in secrets.values())


def test_a_busy_stack_is_waited_for_when_asked(tmp_path: Path) -> None:
    locks = StackLocks(tmp_path / "locks")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locks.hold(STACK, operation_id="first", user="alice"):
            holding.set()
            release.wait(30)

    first = threading.Thread(target=hold)
    first.start()
    assert holding.wait(30)
    with pytest.raises(StackBusy, match="first"), locks.hold(STACK, operation_id="second", user="bob"):
        pass
    threading.Timer(0.5, release.set).start()
    with locks.hold(STACK, operation_id="second", user="bob", wait_seconds=30):
        assert locks.holder(STACK)["operation_id"] == "second"  # type: ignore[index]
    first.join(30)


def test_the_dev_approval_key_is_created_private(engine: Engine, sandbox_settings: Settings) -> None:
    key = sandbox_settings.state_dir / "approval.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
